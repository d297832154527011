"""Query: the stored queries, safe parameter binding, and running SPARQL on rdflib or Oxigraph.

A stored query is a `.rq` file in `queries/` with a header in grlc's decorator syntax (`#+ summary:`,
`#+ tags:`, `#+ defaults:` ...) plus `#+ cq:`, the competency questions it answers. Parameters are
grlc's: a variable `?_name` takes a string, `?_name_iri` an IRI, `?_name_integer` / `?_name_date` a
typed literal. A value is written as an RDF term by our own serialiser and bound in a `VALUES` block
at the top of the WHERE clause, never pasted into the query text, so that quotes or braces in a value
stay a value; this works the same on every SPARQL 1.1 engine and over the SPARQL protocol.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from jisr_kg.errors import QueryError, UsageError
from jisr_kg.paths import queries_dir
from jisr_kg.rdf.namespaces import PREFIXES, XSD
from jisr_kg.rdf.terms import Term, ox_term, rdflib_term
from jisr_kg.sparql.results import AskResult, GraphResult, Result, SelectResult

ENGINES = ("oxigraph", "rdflib")
PARAM_TYPES = {"iri": None, "integer": XSD + "integer", "decimal": XSD + "decimal", "date": XSD + "date",
               "boolean": XSD + "boolean", "string": None}
# A parameter is a variable ?_NAME or ?_NAME_TYPE; SPARQL variable names may hold any letter (?_été).
_PARAM_RE = re.compile(r"\?_([^\W\d_][^\W_]*(?:_[^\W_]+)*)")
_NAME_RE = re.compile(r"[\w][\w.-]*")
_FORBIDDEN_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


class ParameterWarning(UserWarning):
    """A parameter value that is valid but can only match nothing (an IRI no triple names)."""


@dataclass(frozen=True)
class Parameter:
    variable: str  # without the "?"
    name: str
    kind: str  # a key of PARAM_TYPES

    def term(self, value: str) -> Term:
        """The value as an RDF term of this parameter's kind; a clear error when it is not one."""
        if self.kind == "iri":
            return Term("uri", expand_iri(value, self.name))
        if self.kind == "integer":
            if not re.fullmatch(r"[+-]?\d+", value):
                raise QueryError(f"parameter {self.name!r} takes an integer, not {value!r}")
            return Term("literal", str(int(value)), PARAM_TYPES["integer"])
        if self.kind == "decimal":
            if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", value):
                raise QueryError(f"parameter {self.name!r} takes a decimal number, not {value!r}")
            return Term("literal", value, PARAM_TYPES["decimal"])
        if self.kind == "date":
            # YYYY-MM-DD, or the basic form YYYYMMDD, written as the xsd:date the data holds (2011-06-03):
            # a literal "20110603"^^xsd:date would be ill-typed and match nothing.
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{8}", value):
                raise QueryError(f"parameter {self.name!r} takes a date (YYYY-MM-DD or YYYYMMDD), not {value!r}")
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise QueryError(f"parameter {self.name!r} takes a date, and {value!r} is no day of the calendar"
                                 ) from None
            return Term("literal", day.isoformat(), PARAM_TYPES["date"])
        if self.kind == "boolean":
            if value not in ("true", "false"):
                raise QueryError(f"parameter {self.name!r} takes true or false, not {value!r}")
            return Term("literal", value, PARAM_TYPES["boolean"])
        return Term("literal", value)


#: IRI schemes a parameter may use without angle brackets; anything else before a colon is read as
#: a prefix, so that a mistyped one (actr:joshua-landis) is an error, not an IRI that matches nothing.
IRI_SCHEMES = ("http", "https", "urn", "mailto", "tag", "file", "ftp", "data", "did", "doi", "info")


def expand_iri(value: str, name: str = "value") -> str:
    """A full IRI (http://..., urn:..., or any IRI in angle brackets), or a prefixed name with one of
    the project's prefixes (actor:joshua-landis)."""
    m = re.fullmatch(r"([A-Za-z][\w.+-]*):(.*)", value, re.S)
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    elif m and m.group(1) in PREFIXES and not m.group(2).startswith("//"):
        value = PREFIXES[m.group(1)] + m.group(2)
    elif m and m.group(1).lower() not in IRI_SCHEMES:
        close = difflib.get_close_matches(m.group(1), list(PREFIXES), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}:? " if close else ""
        raise QueryError(f"parameter {name!r}: unknown prefix '{m.group(1)}:' in {value!r}; {hint}"
                         f"the prefixes are {', '.join(PREFIXES)} (or give a full IRI in <angle brackets>)")
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", value):
        raise QueryError(
            f"parameter {name!r} takes an IRI or a prefixed name such as actor:joshua-landis, not {value!r}"
        )
    if _FORBIDDEN_IN_IRI.search(value):
        raise QueryError(f"parameter {name!r}: {value!r} is not a valid IRI (it has a space or one of <>\"{{}}|^`\\)")
    return value


@dataclass
class StoredQuery:
    name: str
    path: Path | None
    text: str

    @cached_property
    def header(self) -> dict:
        """The `#+` header, read when first asked for (YAML costs start-up time a plain run does not need)."""
        return parse_header(self.text, str(self.path or self.name))

    @property
    def summary(self) -> str:
        return str(self.header.get("summary", "")).strip()

    @property
    def tags(self) -> list[str]:
        return [str(t) for t in self.header.get("tags", []) or []]

    @property
    def cqs(self) -> list[str]:
        return [str(c) for c in self.header.get("cq", []) or []]

    @property
    def defaults(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for item in self.header.get("defaults", []) or []:
            if isinstance(item, dict):
                out.update({str(k): str(v) for k, v in item.items()})
        return out

    @property
    def parameters(self) -> list[Parameter]:
        seen: dict[str, Parameter] = {}
        for var in _PARAM_RE.findall(_strip_comments(self.text)):
            name, kind = var, "string"
            head, _, suffix = var.rpartition("_")
            if head and suffix in PARAM_TYPES:
                name, kind = head, suffix
            seen.setdefault(name, Parameter("_" + var, name, kind))
        return list(seen.values())

    def bind(self, values: dict[str, str] | None = None) -> str:
        """The query text with the parameters bound (given values, else the header's defaults).

        An empty value leaves the parameter unbound, default or not, so that the query answers for all."""
        values = dict(values or {})
        params = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(params))
        if unknown:
            known = ", ".join(sorted(params)) or "none"
            raise QueryError(f"query {self.name!r} has no parameter {unknown[0]!r} (its parameters: {known})")
        if params:
            for name, value in self.defaults.items():
                values.setdefault(name, value)
        terms = {params[n].variable: params[n].term(v) for n, v in sorted(values.items()) if n in params and v != ""}
        return bind_values(self.text, terms)


def parse_header(text: str, source: str = "query") -> dict:
    """The grlc decorator header: the YAML in the leading `#+` lines."""
    lines = []
    for line in text.splitlines():
        if line.startswith("#+"):
            lines.append(line[3:] if line.startswith("#+ ") else line[2:])
        elif line.strip() and not line.startswith("#"):
            break
    if not lines:
        return {}
    import yaml

    try:
        header = yaml.safe_load("\n".join(lines)) or {}
    except yaml.YAMLError as e:
        raise QueryError(f"the '#+' header is not valid YAML: {e}", path=source) from None
    if not isinstance(header, dict):
        raise QueryError("the '#+' header must be a mapping of keys (summary:, tags:, ...)", path=source)
    return header


def stored_queries(directory: Path | None = None) -> list[StoredQuery]:
    d = directory or queries_dir()
    return [read_query(p) for p in sorted(d.glob("*.rq"))]


def read_query(path: Path) -> StoredQuery:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise QueryError(e.strerror or "cannot read", path=path) from None
    return StoredQuery(path.stem, path, _utf8(data, path))


def _utf8(data: bytes, source: str | Path) -> str:
    """SPARQL text is UTF-8: other bytes are a one-line error naming where, not a codec traceback."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise QueryError(f"the query is not UTF-8 text (byte 0x{data[e.start]:02x})", path=source,
                         line=line) from None


def resolve(ref: str, directory: Path | None = None) -> StoredQuery:
    """What the command line's query argument names: `-` for standard input, a `.rq` file (or any
    path to an existing file), else a stored query by name. Only the CLI takes paths; the library API
    and the server look stored queries up by name (`lookup`)."""
    if ref == "-":
        return StoredQuery("<stdin>", None, _utf8(sys.stdin.buffer.read(), "<stdin>"))
    path = Path(ref)
    if ref.endswith(".rq") or path.is_file():
        if not path.is_file():
            raise QueryError("no such file", path=ref)
        return read_query(path)
    return lookup(ref, directory)


def lookup(name: str, directory: Path | None = None) -> StoredQuery:
    """A stored query by its name in the catalogue (the `.rq` files of queries/), never a path: a
    name with a slash, a dot-dot or another character a name does not have is not found."""
    d = directory or queries_dir()
    if _NAME_RE.fullmatch(name) and ".." not in name:
        candidate = d / f"{name}.rq"
        if candidate.is_file():
            return read_query(candidate)
    ref = name
    names = sorted(p.stem for p in d.glob("*.rq"))
    close = difflib.get_close_matches(ref, names, n=3, cutoff=0.5)
    close += [n for n in names if ref in n and n not in close][: 3 - len(close)]
    hint = f"; did you mean {', '.join(close)}?" if close else "; `jisr-kg queries` lists them"
    raise QueryError(f"no stored query named {ref!r}{hint}")


# ---------------------------------------------------------------- binding


def bind_values(text: str, terms: dict[str, Term]) -> str:
    """Insert `VALUES ?var { term }` blocks at the start of the query's WHERE group."""
    if not terms:
        return text
    pos = _where_brace(text)
    block = "".join(f"\n  VALUES ?{var} {{ {term.n3()} }}" for var, term in terms.items())
    return text[: pos + 1] + block + text[pos + 1 :]


_PNAME_RE = re.compile(r"(?:[^\W\d_][\w.-]*)?:(?:[\w.:%-]|\\.)*")
_WORD_RE = re.compile(r"\w[\w-]*")  # any letter: SPARQL names are not ASCII-only
_IRIREF_RE = re.compile(r"<[^\s<>\"{}|^`\\]*>")
_SKIP_RE = re.compile(r"[?$]\w*|_:[\w.-]*|\d[\d.]*(?:[eE][+-]?\d+)?")  # variables, blank nodes, numbers


def _tokens(text: str):
    """(position, token) outside comments and strings: a brace, a keyword (upper case), an IRI (with
    its angle brackets) or a prefixed name (as written, with its colon). Variables, blank node labels,
    numbers and punctuation are skipped."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c in "\"'":
            quote = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else c
            j = i + len(quote)
            while j < n and text[j : j + len(quote)] != quote:
                j += 2 if text[j] == "\\" else 1
            i = j + len(quote)
        elif c == "<" and (m := _IRIREF_RE.match(text, i)):
            yield i, m.group(0)
            i += len(m.group(0))
        elif c in "{}":
            yield i, c
            i += 1
        elif (c in "?$_" or c.isdigit()) and (m := _SKIP_RE.match(text, i)):
            i += max(1, len(m.group(0).rstrip(".")))
        elif c.isalpha() or c == ":":
            m = _PNAME_RE.match(text, i)
            if m:
                token = m.group(0).rstrip(".")
                yield i, token
                i += len(token)
            else:
                word = _WORD_RE.match(text, i).group(0)
                yield i, word.upper()
                i += len(word)
        else:
            i += 1


def _where_brace(text: str) -> int:
    depth, first, after_where = 0, None, False
    for pos, tok in _tokens(text):
        if tok == "{":
            if depth == 0:
                if after_where:
                    return pos
                if first is None:
                    first = pos
            depth += 1
        elif tok == "}":
            depth -= 1
        elif tok == "WHERE" and depth == 0:
            after_where = True
    if first is None:
        raise QueryError("cannot bind parameters: the query has no WHERE group")
    return first


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def with_prefixes(text: str) -> str:
    """Declare the project's prefixes that the query uses but does not declare itself."""
    declared = {m.lower() for m in re.findall(r"(?im)^\s*PREFIX\s+([\w-]*):", text)}
    body = _strip_comments(text)
    missing = [p for p in PREFIXES if p.lower() not in declared and re.search(rf"(?<![\w<]){re.escape(p)}:", body)]
    if not missing:
        return text
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in missing) + text


# ---------------------------------------------------------------- what a query asks for

QUERY_FORMS = ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")
UPDATE_WORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")


@dataclass
class Shape:
    """What a query's text asks for, read from its tokens (no parsing): enough to refuse early, with
    a message a user understands, what an engine would refuse with a parser's dump, get wrong, or do
    behind the user's back."""

    form: str | None = None  # SELECT, CONSTRUCT, ASK, DESCRIBE, an update's first word, or None (empty)
    from_default: list[str] = field(default_factory=list)  # FROM IRIs
    from_named: list[str] = field(default_factory=list)  # FROM NAMED IRIs
    service: list[str] = field(default_factory=list)  # SERVICE targets, as written
    uses_graph: bool = False  # a GRAPH pattern
    unknown_prefixes: list[tuple[str, int]] = field(default_factory=list)  # (prefix, line)

    @property
    def has_dataset(self) -> bool:
        return bool(self.from_default or self.from_named)


def shape(text: str) -> Shape:
    """What the query text asks for (see Shape), read from its tokens."""
    s = Shape()
    declared: dict[str, str] = {}
    tokens = list(_tokens(text))
    seen_unknown: set[str] = set()
    i = 0
    while i < len(tokens):
        pos, tok = tokens[i]
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if tok == "PREFIX" and nxt.endswith(":"):
            after = tokens[i + 2][1] if i + 2 < len(tokens) else ""
            declared[nxt[:-1]] = after[1:-1] if after.startswith("<") else ""
            i += 3
            continue
        if tok == "BASE":
            i += 2
            continue
        if s.form is None and tok not in ("{", "}") and ":" not in tok and not tok.startswith("<"):
            s.form = tok
        if tok == "FROM":
            named = nxt == "NAMED"
            j = i + (2 if named else 1)
            target = tokens[j][1] if j < len(tokens) else ""
            iri = target[1:-1] if target.startswith("<") else _expand(target, declared)
            (s.from_named if named else s.from_default).append(iri)
        elif tok == "SERVICE":
            j = i + (2 if nxt == "SILENT" else 1)
            target = tokens[j][1] if j < len(tokens) else ""
            s.service.append(target if target.startswith("<") or ":" in target else "?variable")
        elif tok == "GRAPH":
            s.uses_graph = True
        elif ":" in tok and not tok.startswith("<"):
            prefix = tok.split(":", 1)[0]
            if prefix not in declared and prefix not in PREFIXES and prefix not in seen_unknown:
                seen_unknown.add(prefix)
                s.unknown_prefixes.append((prefix, text.count("\n", 0, pos) + 1))
        i += 1
    return s


def _expand(pname: str, declared: dict[str, str]) -> str:
    prefix, _, local = pname.partition(":")
    ns = declared.get(prefix) or PREFIXES.get(prefix, prefix + ":")
    return ns + local


def check_query(text: str) -> Shape:
    """The query's shape, or a clear QueryError for what is not a query jisr-kg can run: an empty text,
    an update (jisr-kg only reads), a prefix that is neither declared nor one of the project's."""
    s = shape(text)
    if s.form is None:
        raise QueryError("the query is empty (nothing but comments or PREFIX lines)")
    if s.form in UPDATE_WORDS:
        raise QueryError(f"an update ({s.form} ...) is not a query: jisr-kg never changes the data; "
                         f"give a {', '.join(QUERY_FORMS[:-1])} or {QUERY_FORMS[-1]} query")
    if s.unknown_prefixes:
        prefix, line = s.unknown_prefixes[0]
        raise QueryError(f"unknown prefix '{prefix}:' at line {line}: declare it (PREFIX {prefix}: <...>) or use "
                         f"one of the project's: {', '.join(PREFIXES)}")
    return s


def check_local(s: Shape, *, allow_service: bool = False, infer: bool = True, engine: str = "oxigraph") -> None:
    """Refuse what a local query must not do or would get wrong: call another server without the
    user's leave, name graphs the dataset does not have, or mix --no-infer with the query's own FROM."""
    if s.service and not allow_service:
        raise UsageError(f"the query calls SERVICE {s.service[0]}, a request to another server; "
                         "a local query makes one only with --allow-service")
    if not s.has_dataset:
        return
    from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH

    graphs = (ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH)
    for iri in s.from_default + s.from_named:
        if iri not in graphs:
            raise QueryError(f"FROM <{iri}>: the dataset has no such graph; its graphs are "
                             + ", ".join(f"<{g}>" for g in graphs))
    if engine == "rdflib":
        raise UsageError("--engine rdflib does not honour FROM / FROM NAMED; run the query on the default "
                         "engine (oxigraph), or use GRAPH <...> { } in the WHERE clause")
    if not infer:
        raise UsageError("--no-infer cannot go with FROM / FROM NAMED: the query's FROM chooses the graphs "
                         "(leave out FROM <" + INFERRED_GRAPH + "> instead)")


# ---------------------------------------------------------------- engines


def run_oxigraph(store_path: Path, text: str, *, infer: bool = True, allow_service: bool = False) -> Result:
    """SPARQL text on the built store: the default graph is the union of the dataset's graphs (without
    the inferred one for `infer=False`), unless the query chooses its own with FROM / FROM NAMED."""
    return query_oxigraph(store_path, text, infer=infer, allow_service=allow_service)[0]


def query_oxigraph(store_path: Path, text: str, *, infer: bool = True, allow_service: bool = False,
                   iris: Sequence[str] = ()) -> tuple[Result, list[str]]:
    """`run_oxigraph`, and which of `iris` no triple of the dataset names."""
    import pyoxigraph as ox

    from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH
    from jisr_kg.sparql.bounded import started

    s = check_query(text)
    check_local(s, allow_service=allow_service, infer=infer)
    store = ox.Store.read_only(str(store_path))
    kwargs: dict = {"use_default_graph_as_union": True}
    if s.has_dataset:
        kwargs = {}  # the query's FROM / FROM NAMED, which Oxigraph honours when we set no dataset
    elif not infer:
        visible = [ox.NamedNode(ASSERTED_GRAPH), ox.NamedNode(CONSENSUS_GRAPH)]
        kwargs = {"default_graph": visible, "named_graphs": visible}
    started()
    try:
        result = from_oxigraph(store.query(with_prefixes(text), **kwargs))
    except SyntaxError as e:
        raise QueryError(_oxigraph_syntax(str(e), text)) from None
    except (OSError, RuntimeError, ValueError) as e:  # evaluation errors (a failed SERVICE call ...)
        raise QueryError(f"the query failed: {e}") from None
    absent = [iri for iri in iris if not store.query(_NAMES_IRI.format(iri=iri), use_default_graph_as_union=True)]
    return result, absent


_NAMES_IRI = "ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s <{iri}> ?o }} UNION {{ ?s ?p <{iri}> }} }}"


def from_oxigraph(answer) -> Result:
    import pyoxigraph as ox

    if isinstance(answer, ox.QueryBoolean):
        return AskResult(bool(answer))
    if isinstance(answer, ox.QueryTriples):
        return GraphResult([(ox_term(t.subject), ox_term(t.predicate), ox_term(t.object)) for t in answer])
    variables = [v.value for v in answer.variables]
    rows = [[ox_term(sol[v]) if sol[v] is not None else None for v in variables] for sol in answer]
    return SelectResult(variables, rows)


def run_rdflib(graph: Any, text: str, *, allow_service: bool = False) -> Result:
    """SPARQL text on an rdflib graph, or on an rdflib Dataset for a query with GRAPH."""
    return query_rdflib(graph, text, allow_service=allow_service)[0]


def query_rdflib(graph: Any, text: str, *, allow_service: bool = False,
                 iris: Sequence[str] = ()) -> tuple[Result, list[str]]:
    """`run_rdflib`, and which of `iris` no triple of the graph names."""
    import rdflib.plugins.sparql
    from pyparsing import ParseException
    from rdflib import ConjunctiveGraph, URIRef

    from jisr_kg.sparql.bounded import started

    s = check_query(text)
    check_local(s, allow_service=allow_service, engine="rdflib")
    if s.uses_graph and not isinstance(graph, ConjunctiveGraph):
        raise QueryError("this query has GRAPH, and the rdflib graph it was given has no named graphs "
                         "(give an rdflib Dataset)")
    # FROM is refused above; this keeps rdflib from ever fetching a graph from the web by its IRI.
    rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False
    started()
    try:
        answer = graph.query(with_prefixes(text))
        result = from_rdflib(answer)
    except ParseException as e:
        raise QueryError(f"SPARQL syntax error at line {e.lineno}, column {e.col}: {e.msg}") from None
    except MemoryError:
        raise
    except Exception as e:  # rdflib raises many kinds on bad queries
        raise QueryError(f"the query failed: {e}") from None
    absent = []
    for iri in iris:
        node = URIRef(iri)
        if not any(t in graph for t in ((node, None, None), (None, node, None), (None, None, node))):
            absent.append(iri)
    return result, absent


def from_rdflib(answer) -> Result:
    if answer.type == "ASK":
        return AskResult(bool(answer.askAnswer))
    if answer.type in ("CONSTRUCT", "DESCRIBE"):
        return GraphResult([(rdflib_term(s), rdflib_term(p), rdflib_term(o)) for s, p, o in answer.graph])
    variables = [str(v) for v in answer.vars]
    rows = [[rdflib_term(row[i]) if row[i] is not None else None for i in range(len(variables))] for row in answer]
    return SelectResult(variables, rows)


def _oxigraph_syntax(message: str, text: str) -> str:
    """Oxigraph reports positions in the text it was given (with our prefixes); map them back."""
    m = re.match(r"error at (\d+):(\d+)(?:-\d+:\d+)?: (.*)", message, re.S)
    if not m:
        return f"SPARQL syntax error: {message}"
    added = with_prefixes(text).count("\n") - text.count("\n")
    return f"SPARQL syntax error at line {int(m.group(1)) - added}, column {m.group(2)}: {m.group(3).strip()}"
