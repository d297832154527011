"""A second SHACL validator: our shapes translated to SPARQL and run on an Oxigraph store.

pyshacl is the reference (`--validator pyshacl`). This validator gives the same results (focus node,
path, value, constraint component, severity and message) for the part of SHACL 1.0 that
`ontology/shapes.ttl` uses, which `tests/test_validator.py` checks against pyshacl on every fixture of
tests/shapes/, on the project's data, on mutated data and at 10 times its size. It is many times
faster and needs no rdflib graph: each constraint of a targeted shape is one SPARQL query over all its
focus nodes, run by Oxigraph on the cached store (docs/decisions/0017-validator.md).

What it translates: targets (class, node, subjectsOf, objectsOf, and sh:property of a targeted node
shape); paths that are an IRI or its inverse; minCount, maxCount, class, datatype, nodeKind, in,
hasValue, languageIn, pattern, min/max Inclusive/Exclusive, min/maxLength, lessThan(OrEquals), and the
shape-based node, or, and, not (as SPARQL expressions over nested shapes); SPARQL-based constraints
(sh:select, run once per focus node with $this substituted, messages filled in as pyshacl fills them).
Anything else raises `Unsupported`, and the caller falls back to pyshacl, so that a new construct in
the shapes can never give a silently different report.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from jisr_kg.pipeline.validate import BLANK, SH, ValidationResult, display
from jisr_kg.rdf.namespaces import XSD_STRING
from jisr_kg.rdf.terms import escape_string

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph as ox

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
LANG_STRING = RDF + "langString"
#: Datatypes whose lexical forms are checked (an ill-typed literal does not match sh:datatype, as in
#: pyshacl): Oxigraph's cast from the string fails exactly when the form is not valid.
CHECKED_TYPES = frozenset(XSD + t for t in (
    "integer", "decimal", "double", "float", "boolean", "date", "dateTime", "time", "gYear", "gYearMonth",
    "gMonth", "gDay", "gMonthDay", "duration", "int", "long", "short", "byte", "nonNegativeInteger",
    "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong",
    "unsignedShort", "unsignedByte", "dayTimeDuration", "yearMonthDuration", "dateTimeStamp"))
#: Datatypes that Oxigraph does not cast to, checked by their lexical pattern.
PATTERN_TYPES = {XSD + "hexBinary": "^([0-9a-fA-F]{2})*$", XSD + "anyURI": "", XSD + "normalizedString": "",
                 XSD + "token": ""}
TARGETS = ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf")
#: Parameters that are not constraints of their own.
NOT_CONSTRAINTS = frozenset(SH + p for p in (
    "path", "message", "severity", "name", "description", "order", "group", "deactivated", "property",
    "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "flags", "defaultValue"))


_SUBCLASSES = re.compile(r"\{\{subclasses of (<[^>]*>)\}\}")
#: The query that fills in the subclasses of a class (the class as {0}).
_SUBCLASS_QUERY = f"SELECT DISTINCT ?c WHERE {{{{ ?c <{RDFS}subClassOf>* {{0}} }}}}"
#: The focus nodes of a SPARQL-based constraint (the focus pattern as {0}).
_FOCUS_QUERY = "SELECT ?this WHERE {0}"


def subclasses(cls: object) -> str:
    """A placeholder for the class and its subclasses in the data, filled in by `validate`."""
    return f"{{{{subclasses of {cls}}}}}"


class Unsupported(Exception):
    """The shapes use something this validator does not translate: use pyshacl."""


# ---------------------------------------------------------------- the shapes graph


class ShapesGraph:
    """The shapes file as an index of its triples (pyoxigraph terms)."""

    def __init__(self, path: Path) -> None:
        import pyoxigraph as ox

        self.ox = ox
        self.out: dict[object, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            self.out[t.subject][t.predicate.value].append(t.object)

    def values(self, node: object, prop: str) -> list:
        return self.out.get(node, {}).get(prop, [])

    def value(self, node: object, prop: str) -> object | None:
        found = self.values(node, prop)
        if len(found) > 1:
            raise Unsupported(f"{node} has {len(found)} values of {prop}")
        return found[0] if found else None

    def items(self, head: object) -> list:
        """The members of an RDF list."""
        out = []
        while head is not None and not (isinstance(head, self.ox.NamedNode) and head.value == RDF + "nil"):
            out.append(self.value(head, RDF + "first"))
            head = self.value(head, RDF + "rest")
        return out


# ---------------------------------------------------------------- terms


def term_string(t: object) -> str:
    """A pyoxigraph term as `validate.term_string` writes an rdflib one."""
    import pyoxigraph as ox

    if isinstance(t, ox.NamedNode):
        return t.value
    if isinstance(t, ox.BlankNode):
        return BLANK
    if isinstance(t, ox.Literal):
        text = '"' + escape_string(t.value) + '"'
        if t.language:
            return f"{text}@{t.language}"
        if t.datatype.value != XSD_STRING:
            return f"{text}^^<{t.datatype.value}>"
        return text
    return str(t)


def plain(t: object) -> str:
    """A term as pyshacl's messages show it (Python's str of the rdflib term)."""
    import pyoxigraph as ox

    if isinstance(t, ox.NamedNode | ox.BlankNode | ox.Literal):
        return t.value
    return str(t)


def sparql_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


# ---------------------------------------------------------------- the translation


class Translator:
    def __init__(self, shapes: ShapesGraph) -> None:
        self.g = shapes
        self.ox = shapes.ox
        self.fresh = itertools.count()

    def var(self) -> str:
        return f"?_v{next(self.fresh)}"

    # paths

    def path(self, shape: object) -> tuple[str, str]:
        """(SPARQL path, path as a report string) of a property shape."""
        p = self.g.value(shape, SH + "path")
        if isinstance(p, self.ox.NamedNode):
            return f"<{p.value}>", p.value
        inverse = self.g.value(p, SH + "inversePath")
        if isinstance(inverse, self.ox.NamedNode) and len(self.g.out[p]) == 1:
            return f"^<{inverse.value}>", "^" + inverse.value
        raise Unsupported(f"the path of {shape}")

    # conditions: a SPARQL expression that is true when `x` conforms (never an error)

    def value_condition(self, shape: object, prop: str, param: object, x: str) -> str | None:
        """The expression for one value-level parameter of `shape` on the value `x`, or None when
        `prop` is not a value-level parameter."""
        name = prop[len(SH):] if prop.startswith(SH) else None
        if name == "class":
            t = self.var()
            return f"EXISTS {{ VALUES {t} {{ {subclasses(param)} }} {x} <{RDF}type> {t} }}"
        if name == "datatype":
            dt = param.value  # type: ignore[attr-defined]
            if dt == XSD_STRING:
                return f"COALESCE(isLiteral({x}) && LANG({x}) = \"\" && DATATYPE({x}) = <{XSD_STRING}>, false)"
            if dt == LANG_STRING:
                return f"COALESCE(isLiteral({x}) && LANG({x}) != \"\", false)"
            if dt in (RDFS + "Literal",):
                return f"isLiteral({x})"
            cond = f"isLiteral({x}) && DATATYPE({x}) = <{dt}>"
            if dt in CHECKED_TYPES:
                cond += f" && isLiteral(<{dt}>(STR({x})))"
            elif dt in PATTERN_TYPES:
                cond += f" && REGEX(STR({x}), {sparql_string(PATTERN_TYPES[dt])})"
            elif dt.startswith(XSD):
                raise Unsupported(f"sh:datatype {dt}")
            return f"COALESCE({cond}, false)"
        if name == "nodeKind":
            kinds = {"IRI": "isIRI({0})", "BlankNode": "isBlank({0})", "Literal": "isLiteral({0})",
                     "BlankNodeOrIRI": "(isBlank({0}) || isIRI({0}))",
                     "BlankNodeOrLiteral": "(isBlank({0}) || isLiteral({0}))",
                     "IRIOrLiteral": "(isIRI({0}) || isLiteral({0}))"}
            kind = param.value[len(SH):]  # type: ignore[attr-defined]
            return kinds[kind].format(x)
        if name == "in":
            members = self.g.items(param)
            return "(" + " || ".join(f"sameTerm({x}, {m})" for m in members) + ")" if members else "false"
        if name == "languageIn":
            langs = [m.value for m in self.g.items(param)]
            tests = " || ".join(f"langMatches(LANG({x}), {sparql_string(lang)})" for lang in langs) or "false"
            return f"COALESCE(isLiteral({x}) && LANG({x}) != \"\" && ({tests}), false)"
        if name == "pattern":
            flags = self.g.value(shape, SH + "flags")
            args = sparql_string(param.value)  # type: ignore[attr-defined]
            if flags is not None:
                args += ", " + sparql_string(flags.value)
            return f"COALESCE(!isBlank({x}) && REGEX(STR({x}), {args}), false)"
        ops = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">", "maxExclusive": "<"}
        if name in ops:
            return f"COALESCE(isLiteral({x}) && {x} {ops[name]} {param}, false)"
        if name in ("minLength", "maxLength"):
            op = ">=" if name == "minLength" else "<="
            return f"COALESCE(!isBlank({x}) && STRLEN(STR({x})) {op} {param.value}, false)"  # type: ignore[attr-defined]
        if name == "node":
            return self.conforms(param, x)
        if name in ("or", "and"):
            parts = [self.conforms(s, x) for s in self.g.items(param)]
            joiner = " || " if name == "or" else " && "
            return "(" + joiner.join(parts) + ")" if parts else ("false" if name == "or" else "true")
        if name == "not":
            return f"(!{self.conforms(param, x)})"
        if prop.startswith(SH) and name not in ("minCount", "maxCount", "hasValue", "lessThan",
                                                 "lessThanOrEquals", "sparql") and prop not in NOT_CONSTRAINTS:
            raise Unsupported(f"sh:{name}")
        return None

    def conforms(self, shape: object, x: str) -> str:
        """The expression that is true when the node `x` conforms to `shape` (a nested shape)."""
        if self.g.value(shape, SH + "deactivated") is not None:
            raise Unsupported("sh:deactivated in a nested shape")
        parts: list[str] = []
        if self.g.value(shape, SH + "path") is not None:
            path, _ = self.path(shape)
            for prop, params in self.g.out[shape].items():
                for param in params:
                    if prop == SH + "minCount":
                        parts.append(self._at_least(x, path, int(param.value)))
                    elif prop == SH + "maxCount":
                        parts.append(f"(!{self._at_least(x, path, int(param.value) + 1)})")
                    elif prop == SH + "hasValue":
                        parts.append(f"EXISTS {{ {x} {path} {param} }}")
                    elif prop in (SH + "lessThan", SH + "lessThanOrEquals", SH + "sparql"):
                        raise Unsupported(f"{prop} in a nested shape")
                    else:
                        v = self.var()
                        cond = self.value_condition(shape, prop, param, v)
                        if cond is not None:
                            parts.append(f"NOT EXISTS {{ {x} {path} {v} FILTER (!({cond})) }}")
        else:
            for prop, params in self.g.out[shape].items():
                for param in params:
                    if prop == SH + "property":
                        parts.append(self.conforms(param, x))
                    elif prop == SH + "hasValue":
                        parts.append(f"sameTerm({x}, {param})")
                    elif prop in (SH + "minCount", SH + "maxCount", SH + "lessThan", SH + "lessThanOrEquals",
                                  SH + "sparql"):
                        raise Unsupported(f"{prop} on a nested node shape")
                    else:
                        cond = self.value_condition(shape, prop, param, x)
                        if cond is not None:
                            parts.append(cond)
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def _at_least(self, x: str, path: str, n: int) -> str:
        if n <= 0:
            return "true"
        vs = [self.var() for _ in range(n)]
        triples = " ".join(f"{x} {path} {v} ." for v in vs)
        distinct = " && ".join(f"!sameTerm({a}, {b})" for a, b in itertools.combinations(vs, 2))
        return f"EXISTS {{ {triples}" + (f" FILTER ({distinct})" if distinct else "") + " }"


# ---------------------------------------------------------------- running it


class SparqlValidator:
    """Validates a store's default graph (or the union of its graphs) against the shapes."""

    def __init__(self, shapes_path: Path) -> None:
        self.g = ShapesGraph(shapes_path)
        self.t = Translator(self.g)
        self.plan = self._plan()

    def _targets(self, shape: object) -> list[str]:
        patterns = []
        for kind in TARGETS:
            for target in self.g.values(shape, SH + kind):
                if kind == "targetClass":
                    t = self.t.var()
                    patterns.append(f"{{ VALUES {t} {{ {subclasses(target)} }} ?this <{RDF}type> {t} }}")
                elif kind == "targetNode":
                    patterns.append(f"{{ VALUES ?this {{ {target} }} }}")
                elif kind == "targetSubjectsOf":
                    patterns.append(f"{{ ?this {target} [] }}")
                else:
                    patterns.append(f"{{ [] {target} ?this }}")
        return patterns

    def _plan(self) -> list[tuple]:
        """(kind, shape, details...) for every query to run."""
        self.ox = self.g.ox
        targeted: dict[object, list[str]] = {}
        for shape in list(self.g.out):
            pats = self._targets(shape)
            if pats:
                targeted.setdefault(shape, []).extend(pats)
        for shape, pats in list(targeted.items()):
            for child in self.g.values(shape, SH + "property"):
                targeted.setdefault(child, []).extend(pats)
        plan = []
        for shape, pats in targeted.items():
            deactivated = self.g.value(shape, SH + "deactivated")
            if deactivated is not None and deactivated.value == "true":
                continue
            focus = "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(pats) + " } }"
            severity = self.g.value(shape, SH + "severity")
            sev = severity.value[len(SH):] if severity is not None and severity.value.startswith(SH) else (
                "Violation" if severity is None else display(severity.value))
            message = " ".join(sorted({m.value for m in self.g.values(shape, SH + "message")}))
            info = {"shape": term_string(shape), "severity": sev, "message": message}
            is_property = self.g.value(shape, SH + "path") is not None
            if is_property:
                path, path_str = self.t.path(shape)
                info["path"] = path_str
            else:
                path, path_str = None, None
                info["path"] = None
            for prop, params in self.g.out[shape].items():
                for param in params:
                    name = prop[len(SH):] if prop.startswith(SH) else None
                    component = f"sh:{name[0].upper()}{name[1:]}ConstraintComponent" if name else ""
                    if name == "sparql":
                        plan.append(("sparql", info, focus, self._sparql(param, is_property)))
                        continue
                    if name in ("minCount", "maxCount"):
                        if not is_property:
                            raise Unsupported(f"sh:{name} on a node shape")
                        plan.append(("novalue", info, component, self._count_query(name, int(param.value), pats,
                                                                                  path)))
                        continue
                    if name == "hasValue":
                        if not is_property:
                            raise Unsupported("sh:hasValue on a node shape")
                        q = f"SELECT ?this WHERE {{ {focus} FILTER NOT EXISTS {{ ?this {path} {param} }} }}"
                        plan.append(("novalue", info, component, q))
                        continue
                    if name in ("lessThan", "lessThanOrEquals"):
                        if not is_property:
                            raise Unsupported(f"sh:{name} on a node shape")
                        op = "<" if name == "lessThan" else "<="
                        cmp = (f"IF(isIRI(?value) && isIRI(?other), STR(?value) {op} STR(?other), "
                               f"!isIRI(?value) && !isIRI(?other) && ?value {op} ?other)")
                        q = (f"SELECT DISTINCT ?this ?value ?other WHERE {{ {focus} ?this {path} ?value . "
                             f"?this {param} ?other . FILTER (isBlank(?value) || isBlank(?other) "
                             f"|| !COALESCE({cmp}, false)) }}")
                        plan.append(("value", info, component, q))
                        continue
                    x = "?value" if is_property else "?this"
                    cond = self.t.value_condition(shape, prop, param, x)
                    if cond is None:
                        continue
                    if is_property:
                        q = f"SELECT DISTINCT ?this ?value WHERE {{ {focus} ?this {path} ?value FILTER (!({cond})) }}"
                    else:
                        q = f"SELECT DISTINCT ?this WHERE {{ {focus} FILTER (!({cond})) }}"
                    plan.append(("value", info, component, q))
        return plan

    @staticmethod
    def _count_query(name: str, n: int, pats: list[str], path: str) -> str:
        """The focus nodes with fewer than `n` values (minCount) or more (maxCount) on `path`.

        Written for what Oxigraph evaluates fastest, measured at 100x (1.4 million triples; decision
        17): a GROUP BY over the focus nodes joined to their values took 2.3 s for the 21 minCount
        and 2.5 s for the 27 maxCount queries. minCount 1 is a NOT EXISTS per focus node (1.0 s);
        maxCount counts the values of every subject of the path, keeps those with too many, and only
        then asks whether each is a focus node (1.1 s: the violators are few, the focus set is not
        built at all)."""
        focus = "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(pats) + " } }"
        if name == "minCount" and n == 1:
            return f"SELECT ?this WHERE {{ {focus} FILTER NOT EXISTS {{ ?this {path} ?value }} }}"
        if name == "minCount":
            return (f"SELECT ?this WHERE {{ {focus} OPTIONAL {{ ?this {path} ?value }} }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {n})")
        return (f"SELECT ?this WHERE {{ {{ SELECT ?this WHERE {{ ?this {path} ?value }} GROUP BY ?this "
                f"HAVING (COUNT(DISTINCT ?value) > {n}) }} FILTER EXISTS {{ {' UNION '.join(pats)} }} }}")

    def _sparql(self, constraint: object, is_property: bool) -> tuple[str, str, object]:
        g = self.g
        if is_property:
            raise Unsupported("a SPARQL constraint on a property shape ($PATH)")
        select = g.value(constraint, SH + "select")
        if select is None or g.values(constraint, SH + "ask"):
            raise Unsupported("a SPARQL constraint without sh:select")
        prefixes = []
        for source in g.values(constraint, SH + "prefixes"):
            for decl in g.values(source, SH + "declare"):
                prefixes.append(f"PREFIX {g.value(decl, SH + 'prefix').value}: "  # type: ignore[union-attr]
                                f"<{g.value(decl, SH + 'namespace').value}>")  # type: ignore[union-attr]
        messages = sorted({m.value for m in g.values(constraint, SH + "message")})
        return "\n".join(prefixes) + "\n" + select.value, " ".join(messages), constraint  # type: ignore[attr-defined]

    def queries(self) -> list[str]:
        """Every SPARQL text `validate` runs, with the placeholders for subclasses not filled in."""
        out = []
        for kind, _info, *rest in self.plan:
            if kind == "sparql":
                focus, (text, _message, _node) = rest
                out += [_FOCUS_QUERY.format(focus), text]
            else:
                out.append(rest[1])
        classes = sorted({c for text in out for c in _SUBCLASSES.findall(text)})
        return out + [_SUBCLASS_QUERY.format(c) for c in classes]

    @functools.cached_property
    def predicates(self) -> frozenset[str] | None:
        """The predicates of the triples any query of these shapes can match, or None when one can
        match triples of any predicate (see `predicates_read`)."""
        found: set[str] = set()
        for text in self.queries():
            read = predicates_read(text)
            if read is None:
                return None
            found |= read
        return frozenset(found)

    def validate(self, store: ox.Store, *, union: bool = False) -> list[ValidationResult]:
        kwargs = {"use_default_graph_as_union": True} if union else {}
        # "an instance of C" is rdf:type/rdfs:subClassOf* C; the subclasses are looked up once here
        # and listed in each query (a path per value node costs Oxigraph several times more)
        found: dict[str, str] = {}

        def fill(text: str) -> str:
            def classes(m: re.Match[str]) -> str:
                c = m.group(1)
                if c not in found:
                    rows = store.query(_SUBCLASS_QUERY.format(c), **kwargs)
                    found[c] = " ".join(sorted({str(r["c"]) for r in rows} | {c}))  # type: ignore[union-attr]
                return found[c]

            return _SUBCLASSES.sub(classes, text)

        out: list[ValidationResult] = []
        for kind, info, *rest in self.plan:
            if kind == "sparql":
                focus, (text, message, _node) = rest
                out += self._run_sparql(store, kwargs, info, fill(focus), text, message)
                continue
            component, q = rest
            q = fill(q)
            for sol in store.query(q, **kwargs):  # type: ignore[union-attr]
                this = sol["this"]
                if kind == "novalue":
                    value = None
                elif info["path"] is None:
                    value = term_string(this)
                else:
                    value = term_string(sol["value"])
                out.append(ValidationResult(info["severity"], info["shape"], term_string(this), info["path"],
                                            value, info["message"], component))
        return out

    def _run_sparql(self, store: ox.Store, kwargs: dict, info: dict, focus: str, text: str,
                    message: str) -> list[ValidationResult]:
        ox = self.ox
        out = []
        for row in store.query(_FOCUS_QUERY.format(focus), **kwargs):  # type: ignore[union-attr]
            f = row["this"]
            answer = store.query(text, substitutions={ox.Variable("this"): f}, **kwargs)
            names = [v.value for v in answer.variables]  # type: ignore[union-attr]
            seen: list = []
            for sol in answer:  # type: ignore[union-attr]
                bound = {n: sol[n] for n in names if sol[n] is not None}
                if bound.pop("failure", None) is not None:
                    raise Unsupported("?failure in a SPARQL constraint")
                p = bound.pop("path", None)
                v = bound.pop("value", None)
                t = bound.pop("this", None)
                if p is None and v is None and t is None:
                    continue
                key = (t, p, v, tuple(sorted((k, str(val)) for k, val in bound.items())))
                if key in seen:  # pyshacl leaves out repeated solutions
                    continue
                seen.append(key)
                if p is not None:
                    raise Unsupported("?path in a SPARQL constraint")
                value = v if v is not None else f
                fill = dict(bound)
                if t is not None:
                    fill["this"] = t
                fill["value"] = value
                msg = message
                for var, val in fill.items():
                    msg = re.sub(f"{{[?$]{var}}}", plain(val), msg)  # as pyshacl does
                out.append(ValidationResult(info["severity"], info["shape"], term_string(t or f), None,
                                            term_string(value), msg, "sh:SPARQLConstraintComponent"))
        return out


_VALIDATORS: dict[tuple, SparqlValidator] = {}


def validator_for(shapes_path: Path) -> SparqlValidator:
    """The translated shapes of `shapes_path`, made once per process and file state."""
    st = shapes_path.stat()
    key = (str(shapes_path), st.st_size, st.st_mtime_ns)
    if key not in _VALIDATORS:
        _VALIDATORS.clear()
        _VALIDATORS[key] = SparqlValidator(shapes_path)
    return _VALIDATORS[key]


# ---------------------------------------------------------------- literals the store would rewrite

# Oxigraph keeps numbers, booleans and dates as values, and gives them back in its canonical form
# ("1791.0"^^xsd:decimal as "1791", xsd:int as xsd:integer), where pyshacl reports rdflib's form. A
# value the store would rewrite could change a result, so data with such a literal is validated by
# pyshacl. Our data writes these literals in the one form all three agree on; the check is a scan of
# the N-Triples lines for typed XSD literals.
_SAFE_FORMS = {
    "integer": r"-?(0|[1-9][0-9]*)",
    "decimal": r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?",
    "boolean": r"true|false",
    "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
    "gYear": r"[0-9]{4}",
    "gYearMonth": r"[0-9]{4}-[0-9]{2}",
    "dateTime": r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]*[1-9])?Z?",
}
_SAFE = {t: re.compile(f"(?:{form})\\Z") for t, form in _SAFE_FORMS.items()}
#: The lexical space the store parses for each (what is outside it is kept as written, ill-typed).
_PARSED = {t: re.compile(f"(?:{form})\\Z") for t, form in {
    "integer": r"\s*[+-]?[0-9]+\s*",
    "decimal": r"\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*",
    "boolean": r"\s*(true|false|1|0)\s*",
}.items()}
#: XSD types that are neither rewritten nor kept as written: a literal of one of these is never safe.
_NATIVE = frozenset((
    "float", "double", "time", "duration", "dayTimeDuration", "yearMonthDuration", "gMonth", "gDay", "gMonthDay",
    "dateTimeStamp", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger", "negativeInteger",
    "nonPositiveInteger", "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte"))
_TYPED = re.compile(r'"((?:[^"\\]|\\.)*)"\^\^<http://www\.w3\.org/2001/XMLSchema#([A-Za-z]+)>')


def unsafe_literal(lexical: str, xsd_type: str) -> bool:
    """Whether the store would give back this literal in another form than pyshacl reports it."""
    if xsd_type in _NATIVE:
        return True
    safe = _SAFE.get(xsd_type)
    if safe is None or safe.match(lexical):
        return False
    parsed = _PARSED.get(xsd_type)
    if parsed is not None:
        return bool(parsed.match(lexical))  # a number the store would rewrite; an ill-typed one it keeps
    return True  # a date or time in a form not known to be kept: be safe


def unsafe_lines(graphs) -> str | None:  # iterable of iterables of N-Triples lines
    """Why these triples must be validated by pyshacl (a literal the store would rewrite), or None.

    Read a line at a time, with plain string search: the object is the last term of a line and its
    subject and predicate hold no quote, so a typed XSD literal is the line from its first quote to
    the last `"^^<...XMLSchema#` and ends it. This finds exactly what `_TYPED` finds (the regular
    expression, run over every line, took a third of the validation's time)."""
    marker = _XSD_MARKER
    skip = len(marker)
    for lines in graphs:
        for line in lines:
            k = line.rfind(marker)
            if k < 0 or not line.endswith("> ."):
                continue
            name = line[k + skip:-3]
            if name == "string" or not (name.isascii() and name.isalpha()):
                continue
            start = line.index('"')
            if unsafe_literal(line[start + 1:k], name):
                return f"the data has {line[start:-2][:80]}, which the store would rewrite"
    return None


_XSD_MARKER = '"^^<http://www.w3.org/2001/XMLSchema#'


def unsafe_terms(terms) -> str | None:  # iterable of pyoxigraph terms
    """Like `unsafe_lines`, for parsed terms."""
    import pyoxigraph as ox

    for t in terms:
        if isinstance(t, ox.Literal) and t.datatype.value.startswith(XSD) and not t.language:
            name = t.datatype.value[len(XSD):]
            if name != "string" and unsafe_literal(t.value, name):
                return f"the data has {t}, which the store would rewrite"
    return None


# ---------------------------------------------------------------- what the queries can read

# The store need only hold the triples that some query can match. When every predicate position of
# every query is a constant IRI (or a path over constant IRIs), a triple with another predicate can
# change no result, so the validator loads only the triples of the predicates the queries name
# (decision 17). This is read from the query texts themselves, by a scanner that understands the
# SPARQL the translation writes and what the shapes' sh:select queries use, and gives up (None: load
# everything) on anything else: a variable or a negated property set as a predicate, GRAPH, SERVICE,
# FROM, BASE, a collection, a path that can match zero steps between two variables (it binds every
# node of the graph), or any token it does not know.

_LEX = re.compile(r'''
    (?P<ws>\s+|\#[^\n]*)
  | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'
              |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<number>[0-9]+\.[0-9]*[eE][+-]?[0-9]+|[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<bnode>_:[A-Za-z0-9_](?:[\w.-]*[\w-])?)
  | (?P<pname>(?:[A-Za-z](?:[\w.-]*[\w-])?)?:(?:[\w:%-](?:[\w.:%-]*[\w:%-])?)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|[{}()\[\];,.!^/|*+?=<>-])
''', re.VERBOSE)


class _Unbounded(Exception):
    """The query may read triples of any predicate."""


class _Scanner:
    """Collects the predicates a SPARQL query can match (see `predicates_read`)."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _LEX.match(text, pos)
            if m is None:
                raise _Unbounded(f"cannot read {text[pos:pos + 20]!r}")
            pos = m.end()
            if m.lastgroup != "ws":
                self.tokens.append((m.lastgroup or "", m.group()))
        self.i = 0
        self.prefixes: dict[str, str] = {}
        self.found: set[str] = set()

    # tokens

    def peek(self, k: int = 0) -> tuple[str, str]:
        return self.tokens[self.i + k] if self.i + k < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok[0] == "end":
            raise _Unbounded("unexpected end")
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        if self.take()[1] != text:
            raise _Unbounded(f"expected {text}")

    def keyword(self, k: int = 0) -> str:
        kind, text = self.peek(k)
        return text.upper() if kind == "name" else ""

    def iri(self, tok: tuple[str, str]) -> str:
        kind, text = tok
        if kind == "iri":
            if "\\" in text:
                raise _Unbounded("an escaped IRI")
            return text
        if kind == "pname":
            prefix, _, local = text.partition(":")
            if prefix not in self.prefixes or "\\" in local or "%" in local:
                raise _Unbounded(f"the prefixed name {text}")
            return f"<{self.prefixes[prefix]}{local}>"
        if kind == "name" and text == "a":
            return f"<{RDF}type>"
        raise _Unbounded(f"{text} is not an IRI")

    # the query

    def query(self) -> None:
        while self.keyword() == "PREFIX":
            self.take()
            kind, name = self.take()
            iri = self.take()
            if kind != "pname" or not name.endswith(":") or iri[0] != "iri":
                raise _Unbounded("a PREFIX declaration")
            self.prefixes[name[:-1]] = iri[1][1:-1]
        if self.peek()[1] == "{":
            self.group()
        elif self.keyword() == "SELECT":
            self.select()
        else:
            raise _Unbounded(f"a query that starts with {self.peek()[1]}")
        if self.peek()[0] != "end":
            raise _Unbounded(f"{self.peek()[1]} after the query")

    def select(self) -> None:
        self.expect_keyword("SELECT")
        while self.peek()[1] != "{" and self.keyword() != "WHERE":
            if self.keyword() in ("FROM", "NAMED"):
                raise _Unbounded("FROM")
            if self.peek()[1] == "(":
                self.expression()
            else:
                self.take()
        if self.keyword() == "WHERE":
            self.take()
        self.group()
        # solution modifiers: GROUP BY, HAVING, ORDER BY, LIMIT, OFFSET (expressions may hold EXISTS)
        while self.peek()[0] != "end" and self.peek()[1] != "}":
            if self.keyword() == "VALUES":
                self.take()
                self.values()
            elif self.peek()[1] == "(":
                self.expression()
            elif self.at_exists():
                self.exists()
            elif self.peek()[1] == "{":
                raise _Unbounded("a group in the solution modifiers")
            else:
                self.take()

    def expect_keyword(self, word: str) -> None:
        if self.keyword() != word:
            raise _Unbounded(f"expected {word}")
        self.take()

    # expressions: only EXISTS reads the graph

    def expression(self) -> None:
        """A parenthesized expression, with the groups of any EXISTS in it."""
        self.expect("(")
        depth = 1
        while depth:
            if self.at_exists():
                self.exists()
                continue
            kind, text = self.take()
            if text == "(":
                depth += 1
            elif text == ")":
                depth -= 1
            elif text in ("{", "}"):
                raise _Unbounded("a brace in an expression")

    def at_exists(self) -> bool:
        return self.keyword() == "EXISTS" or (self.keyword() == "NOT" and self.keyword(1) == "EXISTS")

    def exists(self) -> None:
        if self.keyword() == "NOT":
            self.take()
        self.expect_keyword("EXISTS")
        self.group()

    # graph patterns

    def group(self) -> None:
        self.expect("{")
        if self.keyword() == "SELECT":
            self.select()
            self.expect("}")
            return
        while True:
            kind, text = self.peek()
            word = self.keyword()
            if text == "}":
                self.take()
                return
            if text == "{":
                self.group()
            elif text == "." or word == "UNION":
                self.take()
            elif word in ("OPTIONAL", "MINUS"):
                self.take()
                self.group()
            elif word == "FILTER":
                self.take()
                self.constraint()
            elif word == "BIND":
                self.take()
                self.expression()
            elif word == "VALUES":
                self.take()
                self.values()
            elif kind == "name" and text not in ("true", "false"):
                raise _Unbounded(f"{text} in a group")
            else:
                self.triples()

    def constraint(self) -> None:
        if self.peek()[1] == "(":
            self.expression()
        elif self.at_exists():
            self.exists()
        elif self.peek()[0] in ("name", "iri", "pname"):  # a function call
            self.take()
            self.expression()
        else:
            raise _Unbounded("a FILTER")

    def values(self) -> None:
        """VALUES ?x { ... } or VALUES (?x ?y) { (...) ... }: data, nothing read."""
        if self.peek()[1] == "(":
            while self.take()[1] != ")":
                pass
        elif self.take()[0] != "var":
            raise _Unbounded("VALUES")
        self.expect("{")
        while (tok := self.take())[1] != "}":
            if tok[1] == "{":
                raise _Unbounded("a brace in VALUES")

    # triples

    def term(self) -> bool:
        """One subject or object; whether it is a constant (not a variable or blank node)."""
        kind, text = self.peek()
        if text == "[":
            self.take()
            if self.peek()[1] != "]":
                self.properties(False)
            self.expect("]")
            return False
        if text == "(":
            raise _Unbounded("a collection")
        self.take()
        if kind in ("var", "bnode"):
            return False
        if kind in ("iri", "pname"):
            self.iri((kind, text))
            return True
        if kind == "string":
            if self.peek()[0] == "lang":
                self.take()
            elif self.peek()[1] == "^^":
                self.take()
                self.iri(self.take())
            return True
        if kind == "number" or (kind == "name" and text in ("true", "false")):
            return True
        raise _Unbounded(f"{text} as a term")

    def triples(self) -> None:
        blank = self.peek()[1] == "["
        constant = self.term()
        if blank and self.peek()[1] in (".", "}"):
            return
        self.properties(constant)

    def properties(self, subject_constant: bool) -> None:
        while True:
            if self.peek()[0] == "var":
                raise _Unbounded("a variable predicate")
            zero = self.path()
            objects_constant = self.term()
            while self.peek()[1] == ",":
                self.take()
                objects_constant = self.term() and objects_constant
            if zero and not (subject_constant or objects_constant):
                raise _Unbounded("a path of zero steps between two variables")
            if self.peek()[1] != ";":
                return
            while self.peek()[1] == ";":
                self.take()
            kind, text = self.peek()
            if not (kind in ("var", "iri", "pname") or text in ("a", "^", "(", "!")):
                return

    def path(self) -> bool:
        """A predicate or property path; its IRIs are recorded. Whether it can match zero steps."""
        zero = self.path_sequence()
        while self.peek()[1] == "|":
            self.take()
            zero = self.path_sequence() or zero
        return zero

    def path_sequence(self) -> bool:
        zero = self.path_element()
        while self.peek()[1] == "/":
            self.take()
            zero = self.path_element() or zero
        return zero

    def path_element(self) -> bool:
        if self.peek()[1] == "^":
            self.take()
        kind, text = self.peek()
        if text == "(":
            self.take()
            zero = self.path()
            self.expect(")")
        elif text == "!":
            raise _Unbounded("a negated property set")
        else:
            self.found.add(self.iri(self.take()))
            zero = False
        if self.peek()[1] in ("*", "?"):
            self.take()
            return True
        if self.peek()[1] == "+":
            self.take()
        return zero


def predicates_read(text: str) -> frozenset[str] | None:
    """The predicates (as `<iri>`) of the triples a SPARQL query can match, or None when it can match
    triples of any predicate or the scanner does not understand it. A placeholder for the subclasses
    of a class (`subclasses`) counts as the class: it is filled in with IRIs in a VALUES block."""
    try:
        scanner = _Scanner(_SUBCLASSES.sub(r"\1", text))
        scanner.query()
    except (_Unbounded, IndexError):
        return None
    return frozenset(scanner.found)
