"""Reason: the OWL 2 RL (or RDFS) closure of a set of triples, kept apart from what was asserted.

Triples come and go as N-Triples lines (see `load`). owlrl is the reference reasoner. What it adds
that is not RDF, or says nothing, is dropped: triples with a literal subject (its datatype typing),
`x owl:sameAs x`, blank nodes (its bookkeeping). An inconsistency, which owlrl records as "error"
triples instead of stopping, is raised as an error.

The default, `rules`, gives owlrl's entailments many times faster: owlrl closes the (small) schema
and `rules.instance_closure` applies the few instance rules our ontology's constructs need (see
jisr_kg/rules.py; tests/test_reasoning.py checks the two agree on our data). Data whose schema uses
other constructs is reasoned by owlrl. `reasonable` (OWL 2 RL in Rust) is a third choice.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import types
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from typing import Literal

from jisr_kg.errors import JisrError
from jisr_kg.paths import REASONERS
from jisr_kg.pipeline import rules
from jisr_kg.rdf.namespaces import RDF_LANGSTRING, XSD_STRING

ERR = "http://www.daml.org/2002/03/agents/agent-ont#"
TYPE = f"<{rules.RDF}type>"
SAME_AS = f"<{rules.OWL}sameAs>"
XSD_STRING_NT = f"<{XSD_STRING}>"
LANG_STRING_NT = f"<{RDF_LANGSTRING}>"

Reasoner = Literal["rules", "owlrl", "reasonable"]
Profile = Literal["owlrl", "rdfs"]
Triple = tuple[str, str, str]
Progress = Callable[[str], None]


class InconsistencyError(JisrError):
    """The reasoner found the graph inconsistent (a contradiction in the data and the ontology)."""


def split(line: str) -> Triple:
    """An N-Triples line as its three terms (a subject or predicate never contains a space)."""
    s, p, o = line[:-2].split(" ", 2)
    return s, p, o


def entailments(lines: Iterable[str], *, reasoner: Reasoner = "rules", profile: Profile = "owlrl",
                progress: Progress | None = None) -> set[str]:
    """The triples (N-Triples lines) that reasoning adds to `lines`, without those given.

    A set is read as it is, not copied (at 1000 times our data a copy of the lines is 2 GB)."""
    given = lines if isinstance(lines, (set, frozenset)) else set(lines)
    if reasoner not in REASONERS:
        raise JisrError(f"unknown reasoner {reasoner!r} (choose from {', '.join(REASONERS)})")
    if reasoner == "reasonable" and profile != "owlrl":
        raise JisrError("the reasonable reasoner does OWL 2 RL only; use --reasoner owlrl for RDFS")
    if reasoner == "rules" and profile == "owlrl":
        with _no_cycle_collection():
            return _rules(given, progress)
    return _lines(_external(given, reasoner, profile), given)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused: the rules make millions of tuples (of terms, which hold no
    cycles) and the collector would walk all the tracked ones again and again as they pile up, a sixth
    of the reasoning time at 100 times our data. What they free is freed by reference counting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def keep(s: str, p: str, o: str) -> bool:
    """Whether an entailed triple is worth keeping: valid RDF, not trivial, not a reasoner artefact."""
    if not s.startswith("<") or not p.startswith("<") or o.startswith("_:"):
        return False  # a literal or blank subject, or the reasoners' own blank-node bookkeeping
    if p == SAME_AS and s == o:
        return False
    return not (s.startswith("<" + ERR) or o.startswith("<" + ERR))


# ---------------------------------------------------------------- rules: owlrl on the schema only


def _iri(term: str) -> str:
    return term[1:-1] if term.startswith("<") else term


def _nt_iri(iri: str) -> str:
    return f"<{iri}>"


def _rules(given: AbstractSet[str], progress: Progress | None) -> set[str]:
    """owlrl on the schema, `rules.instance_closure` on the rest (or owlrl on all, if it must): the
    entailed lines, less the `given` ones.

    At 1000 times our data the given lines are 9 million: they are read once, each only to find its
    predicate, and only the instance triples that a rule can use (`rules.predicates`: less than half of
    ours) are split into terms, each term string shared by all its triples."""
    groups, schema, samples = _read(given)
    closed = _owlrl_closure(schema, samples)
    del schema
    missing = rules.unsupported(tuple(map(_iri, t)) for t in closed)
    if missing:
        if progress:
            progress(f"the schema uses {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}, "
                     "which the rules reasoner does not implement: reasoning with owlrl")
        del groups
        triples = [split(line) for line in given]
        return _lines(_owlrl_closure(triples, _samples(triples)), given)
    # a schema rule can derive instance triples (a sub-property of an annotation, say)
    facts = [t for t in closed if not rules.is_schema(*map(_iri, t))]
    used = rules.predicates(closed, _nt_iri)
    # each group of lines is let go once it is read: the closure holds its triples
    lines = (line for p in [p for p in groups if p in used] for line in groups.pop(p))
    derived, known = rules.instance_closure(closed, itertools.chain(_instances(lines, used), facts), _nt_iri)
    del groups
    errors = rules.clashes(closed, _typed(closed, derived, known, given), _nt_iri)
    if errors:
        raise InconsistencyError("the reasoner found the data inconsistent: " + "; ".join(errors))
    del known
    # the closure is `closed`, the given instance triples and `derived`: the given ones are left out
    found = _derived_lines(derived, given)
    found |= _lines(closed, given)
    return found


def _lines(closure: Iterable[Triple], given: AbstractSet[str]) -> set[str]:
    """The triples that `keep` keeps, as lines, less the `given` ones."""
    return {line for line in (f"{s} {p} {o} ." for s, p, o in closure if keep(s, p, o)) if line not in given}


def _derived_lines(derived: rules.Closure, given: AbstractSet[str]) -> set[str]:
    """`_lines` of what the rules derived, a class or a predicate at a time: `keep` with the checks
    that are the same for all its triples made once (derived terms are IRIs, literals or blank nodes).
    `derived` is emptied as it is read, so that its triples are freed as their lines are made."""
    err = "<" + ERR
    found: set[str] = set()
    while derived.types:
        c, nodes = derived.types.popitem()
        if c.startswith(("_:", err)):
            continue
        tail = f" {TYPE} {c} ."
        found.update([s + tail for s in nodes if s[0] == "<" and not s.startswith(err)])
    while derived.pairs:
        p, pairs = derived.pairs.popitem()
        if not p.startswith("<"):
            continue
        middle = f" {p} "
        found.update([f"{s}{middle}{o} ." for s, o in pairs
                      if s[0] == "<" and o[0] != "_" and not s.startswith(err) and not o.startswith(err)
                      and (s != o or p != SAME_AS)])
    found.difference_update(given)  # in place: a copy of the lines' table would be the peak of reasoning
    return found


def _read(given: Iterable[str]) -> tuple[dict[str, list[str]], list[Triple], list[Triple]]:
    """In one pass over the lines: the lines by predicate, less the schema triples (`rules.is_schema`);
    the schema triples; and `_samples`."""
    groups: dict[str, list[str]] = {}
    schema: list[Triple] = []
    tails: dict[str, Triple] = {}  # what follows a literal's lexical form (its datatype or language)
    vocabulary: dict[str, bool] = {}  # predicate -> whether its triples are schema (rdf:type: `classes`)
    classes: dict[str, bool] = {}  # object of rdf:type -> whether the triple is schema
    for line in given:
        # the terms with " ." after the object (a subject or predicate holds no space); split in C
        s, p, rest = line.split(" ", 2)
        if rest[0] == '"':
            tail = rest[rest.rindex('"'):]
            if tail not in tails:
                tails[tail] = (s, p, rest[:-2])
        group = groups.get(p)
        if group is None:
            group = groups[p] = []
            vocabulary[p] = p != TYPE and rules.is_schema("", _iri(p), "")
        if p == TYPE:
            o = rest[:-2]
            is_schema = classes.get(o)
            if is_schema is None:
                is_schema = classes[o] = rules.meaningful(_iri(o))
            if is_schema:
                schema.append((s, p, o))
            else:
                group.append(line)
        elif vocabulary[p]:
            schema.append((s, p, rest[:-2]))
        else:
            group.append(line)
    # the first triple of each datatype: a tail's first triple is the first of its datatype or later
    samples: dict[str, Triple] = {}
    for t in tails.values():
        samples.setdefault(_datatype(t[2]), t)
    return groups, schema, list(samples.values())


def _instances(given: Iterable[str], used: set[str]) -> Iterator[Triple]:
    """The instance triples whose predicate is `used`, as terms; equal terms are one string."""
    terms: dict[str, str] = {}
    share = terms.setdefault
    schema: dict[str, bool] = {}  # predicate -> whether its triples are schema
    classes: dict[str, bool] = {}  # the object of rdf:type -> whether the triple is schema
    for line in given:
        s, p, rest = line.split(" ", 2)
        if p not in used:
            continue
        o = rest[:-2]
        found, key = (classes, o) if p == TYPE else (schema, p)
        is_schema = found.get(key)
        if is_schema is None:
            is_schema = found[key] = rules.is_schema("", _iri(p), _iri(o))
        if not is_schema:
            yield share(s, s), share(p, p), share(o, o)


def _typed(closed: set[Triple], derived: rules.Closure, known: rules.Closure,
           given: Iterable[str]) -> Iterator[tuple[str, str]]:
    """The (node, class) pairs of the closure that `rules.clashes` can find a clash in: the types that
    are among the disjoint classes, and a literal's datatype where the literal has a type (a clash needs
    two classes), or, where a class is said to be disjoint with itself, of every literal. The instance
    types are `known`'s: the given ones and the derived ones."""
    disjoint = _nt_iri(rules.OWL + "disjointWith")
    pairs = {(s, o) for s, p, o in closed if p == disjoint}
    classes = {c for pair in pairs for c in pair}
    if not classes:
        return
    for s, p, o in closed:
        if p == TYPE and (o in classes or s.startswith('"')):
            yield s, o
            if s.startswith('"'):
                yield s, _datatype(s)
    for c, nodes in known.types.items():
        if c in classes:
            yield from ((s, c) for s in nodes)
        for s in nodes:
            if s.startswith('"'):
                if c not in classes:
                    yield s, c
                yield s, _datatype(s)
    if any(c1 == c2 for c1, c2 in pairs):
        for line in given:
            if '"' in line:
                o = split(line)[2]
                yield o, _datatype(o)
        for _s, _p, o in itertools.chain(closed, derived):
            if o.startswith('"'):
                yield o, _datatype(o)


def _samples(triples: list[Triple]) -> list[Triple]:
    """One triple with a literal of each datatype: owlrl states axioms about the datatypes of the
    literals it sees (which are disjoint), so it must see them all even where it is shown only a part
    of the graph."""
    samples: dict[str, Triple] = {}
    for t in triples:
        if t[2].startswith('"'):
            samples.setdefault(_datatype(t[2]), t)
    return list(samples.values())


def _datatype(literal: str) -> str:
    """The datatype of a literal in N-Triples form, as an N-Triples IRI."""
    tail = literal[literal.rindex('"') + 1:]
    if tail.startswith("^^"):
        return tail[2:]
    return LANG_STRING_NT if tail.startswith("@") else XSD_STRING_NT


# ---------------------------------------------------------------- owlrl and reasonable on rdflib graphs


def _owlrl_closure(triples: list[Triple], extra: list[Triple], profile: Profile = "owlrl") -> set[Triple]:
    """owlrl's closure of the relevant `triples`, plus `extra` (which it sees whether relevant or not)."""
    bridge = _Bridge()
    graph = bridge.graph(triples)
    # RDFS types every node and property it sees, so under RDFS no triple is irrelevant.
    premises = relevant(graph) if profile == "owlrl" else graph
    for t in bridge.graph(extra):
        premises.add(t)
    return bridge.triples(_checked(_owlrl(premises, profile)))


def _external(given: set[str], reasoner: str, profile: Profile) -> set[Triple]:
    if reasoner in ("owlrl", "rules"):
        triples = [split(line) for line in given]
        return _owlrl_closure(triples, _samples(triples), profile)
    bridge = _Bridge()
    return bridge.triples(_checked(_reasonable(relevant(bridge.graph([split(line) for line in given])))))


class _Bridge:
    """Triples to an rdflib graph and back, each term back to the very string it came from (rdflib
    normalises some literals, and a changed string would look like a new triple)."""

    def __init__(self) -> None:
        self.back: dict[object, str] = {}

    def graph(self, triples: Iterable[Triple]):  # rdflib.Graph
        from jisr_kg.pipeline.load import TermConverter, rdflib_graph

        convert = TermConverter()
        graph = rdflib_graph((f"{s} {p} {o} ." for s, p, o in triples), convert=convert)
        for ox_term, term in convert.memo.items():
            self.back.setdefault(term, str(ox_term))
        return graph

    def triples(self, graph) -> set[Triple]:
        return {(self._nt(s), self._nt(p), self._nt(o)) for s, p, o in graph}

    def _nt(self, term) -> str:
        found = self.back.get(term)
        if found is None:
            from jisr_kg.pipeline.load import nt_term

            found = self.back[term] = nt_term(term)
        return found


def _checked(closure):
    import rdflib

    errors = sorted(str(o) for o in closure.objects(None, rdflib.URIRef(ERR + "error")))
    if errors:
        raise InconsistencyError("the reasoner found the data inconsistent: " + "; ".join(errors))
    return closure


def relevant(graph):  # rdflib.Graph in and out
    """The premises worth reasoning over: the graph less the triples no rule can use.

    An OWL 2 RL or RDFS rule can only fire on a triple `s p o` through what the graph says about `p`
    (a domain, range, super-property, inverse, characteristic, restriction or chain), or when `p` is
    rdf:type, a list link, or part of the RDFS/OWL vocabulary itself. A triple whose property the graph
    never mentions as a node (labels, quotes, notes, the claim reification and attribution triples)
    yields nothing but `x owl:sameAs x` and its own literal's datatype, both of which `keep` drops.
    Leaving those triples out makes owlrl several times faster (it loops over every triple until
    nothing changes); tests/test_reasoning.py checks that the entailments are the same.
    """
    import rdflib
    from rdflib import RDF

    always = {RDF.type, RDF.first, RDF.rest}
    mentioned = set(graph.subjects()) | {o for o in graph.objects() if not isinstance(o, rdflib.Literal)}
    premises = rdflib.Graph()
    for t in graph:
        p = t[1]
        if p in mentioned or p in always or str(p).startswith((rules.OWL, rules.RDFS)):
            premises.add(t)
    return premises


def _owlrl(graph, profile: Profile):
    import owlrl
    import rdflib

    closure = rdflib.Graph()
    closure += graph
    semantics = owlrl.OWLRL_Semantics if profile == "owlrl" else owlrl.RDFS_Semantics
    owlrl.DeductiveClosure(_without_reflexive_same_as(semantics)).expand(closure)
    return closure


@functools.cache
def _without_reflexive_same_as(semantics: type) -> type:
    """owlrl's rules, less the `x owl:sameAs x` that rule eq-ref adds for every node.

    Those triples say nothing, `keep` drops them, and owlrl then feeds each one through the
    eq-rep-s/p/o rules, copying every node's triples onto itself: most of its running time on our
    data. Every other rule is untouched, so the kept entailments are exactly owlrl's
    (tests/test_reasoning.py compares them with plain owlrl).

    The rules are also run with the vocabulary at hand (`_with_terms_at_hand`): the same code on the
    same terms, in half the time.
    """
    from rdflib import OWL

    same_as = OWL.sameAs

    class Semantics(semantics):  # type: ignore[misc, valid-type]
        def store_triple(self, t: tuple) -> None:
            if t[1] == same_as and t[0] == t[2]:
                return
            super().store_triple(t)

    for name, method in vars(semantics).items():
        if isinstance(method, types.FunctionType) and name not in vars(Semantics):
            setattr(Semantics, name, _with_terms_at_hand(method))
    Semantics.__name__ = f"{semantics.__name__}WithoutReflexiveSameAs"
    return Semantics


def _with_terms_at_hand(function: types.FunctionType) -> types.FunctionType:
    """The function, with rdflib's vocabulary classes among its globals (OWL, RDF, RDFS, XSD) replaced
    by `_Terms`. owlrl's rules name every term as an attribute of those classes (`OWL.sameAs`), and each
    such read runs rdflib's DefinedNamespace `__getattr__` in Python: 75,000 reads, half of owlrl's time,
    on the schema of our data. The code and the terms stay the same."""
    copy = types.FunctionType(function.__code__, _globals_with_terms(function.__globals__), function.__name__,
                              function.__defaults__, function.__closure__)
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    copy.__doc__ = function.__doc__
    return copy


_GLOBALS: dict[int, dict] = {}  # id of a module's globals -> their copy with `_Terms`


def _globals_with_terms(module_globals: dict) -> dict:
    from rdflib.namespace import DefinedNamespace

    found = _GLOBALS.get(id(module_globals))
    if found is None:
        found = _GLOBALS[id(module_globals)] = {
            name: _Terms(value) if isinstance(value, type) and issubclass(value, DefinedNamespace) else value
            for name, value in module_globals.items()}
    return found


class _Terms:
    """An rdflib vocabulary class (`rdflib.OWL`, ...) whose terms, once read, are plain attributes."""

    def __init__(self, namespace: type) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str):  # only called for a name not read before
        term = getattr(self._namespace, name)
        setattr(self, name, term)
        return term

    def __getitem__(self, name: str):
        return self._namespace[name]


def _reasonable(graph):
    import rdflib

    try:
        import reasonable
    except ImportError:
        raise JisrError("the reasonable reasoner is not installed: pip install 'jisr-kg[fast]'") from None
    r = reasonable.PyReasoner()
    r.from_graph(graph)
    closure = rdflib.Graph()
    for s, p, o in r.reason():
        # reasonable returns plain strings as "x"^^xsd:string: the same RDF 1.1 term as "x", but rdflib
        # tells them apart, and the asserted triple would come back as an "inferred" one.
        if isinstance(o, rdflib.Literal) and o.datatype == rdflib.XSD.string and not o.language:
            o = rdflib.Literal(str(o))
        closure.add((s, p, o))
    return closure
