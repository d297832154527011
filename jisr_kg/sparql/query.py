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
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

from jisr_kg.errors import QueryError
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
            try:
                date.fromisoformat(value)
            except ValueError:
                raise QueryError(f"parameter {self.name!r} takes a date (YYYY-MM-DD), not {value!r}") from None
            return Term("literal", value, PARAM_TYPES["date"])
        if self.kind == "boolean":
            if value not in ("true", "false"):
                raise QueryError(f"parameter {self.name!r} takes true or false, not {value!r}")
            return Term("literal", value, PARAM_TYPES["boolean"])
        return Term("literal", value)


def expand_iri(value: str, name: str = "value") -> str:
    """A full IRI, or a prefixed name with one of the project's prefixes (actor:joshua-landis)."""
    m = re.fullmatch(r"([A-Za-z][\w-]*):(.*)", value)
    if m and m.group(1) in PREFIXES and not value.startswith(("http://", "https://", "urn:")):
        value = PREFIXES[m.group(1)] + m.group(2)
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
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise QueryError(e.strerror or "cannot read", path=path) from None
    return StoredQuery(path.stem, path, text)


def resolve(ref: str, directory: Path | None = None) -> StoredQuery:
    """What the command line's query argument names: `-` for standard input, a `.rq` file (or any
    path to an existing file), else a stored query by name. Only the CLI takes paths; the library API
    and the server look stored queries up by name (`lookup`)."""
    if ref == "-":
        text = sys.stdin.read()
        return StoredQuery("<stdin>", None, text)
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


def _tokens(text: str):
    """(position, token) for the braces and keywords outside comments, strings and IRIs."""
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
        elif c == "<" and re.match(r"<[^\s<>\"{}|^`\\]*>", text[i:]):
            i = text.index(">", i) + 1
        elif c in "{}":
            yield i, c
            i += 1
        elif c.isalpha():
            m = re.match(r"\w[\w-]*:?", text[i:])  # any letter: SPARQL names are not ASCII-only
            word = m.group(0)
            if not word.endswith(":"):
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


# ---------------------------------------------------------------- engines


def run_oxigraph(store_path: Path, text: str, *, infer: bool = True) -> Result:
    import pyoxigraph as ox

    from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH

    store = ox.Store.read_only(str(store_path))
    kwargs: dict = {"use_default_graph_as_union": True}
    if not infer:
        kwargs = {"default_graph": [ox.NamedNode(ASSERTED_GRAPH), ox.NamedNode(CONSENSUS_GRAPH)]}
    try:
        answer = store.query(with_prefixes(text), **kwargs)
    except SyntaxError as e:
        raise QueryError(_oxigraph_syntax(str(e), text)) from None
    return from_oxigraph(answer)


def from_oxigraph(answer) -> Result:  # noqa: ANN001
    import pyoxigraph as ox

    if isinstance(answer, ox.QueryBoolean):
        return AskResult(bool(answer))
    if isinstance(answer, ox.QueryTriples):
        return GraphResult([(ox_term(t.subject), ox_term(t.predicate), ox_term(t.object)) for t in answer])
    variables = [v.value for v in answer.variables]
    rows = [[ox_term(sol[v]) if sol[v] is not None else None for v in variables] for sol in answer]
    return SelectResult(variables, rows)


def run_rdflib(graph, text: str) -> Result:  # noqa: ANN001 - an rdflib.Graph
    from pyparsing import ParseException

    try:
        answer = graph.query(with_prefixes(text))
    except ParseException as e:
        raise QueryError(f"SPARQL syntax error at line {e.lineno}, column {e.col}: {e.msg}") from None
    except Exception as e:  # noqa: BLE001 - rdflib raises many kinds on bad queries
        raise QueryError(f"query failed: {e}") from None
    return from_rdflib(answer)


def from_rdflib(answer) -> Result:  # noqa: ANN001
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
