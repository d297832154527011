"""Query results in one engine-neutral form, and their serialisations.

Both engines' answers are turned into `Term`s, so that every output format is written by the same
code whichever engine ran the query: the W3C SPARQL 1.1 results formats (CSV, TSV, JSON, XML) and a
readable table. Nothing here imports rdflib.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from jisr_kg.rdf import formats
from jisr_kg.rdf.namespaces import PREFIXES, XSD_STRING
from jisr_kg.rdf.terms import Term, escape, not_xml_char, ntriples_key, quoteattr, to_oxigraph

RESULT_FORMATS = formats.RESULT_NAMES


@dataclass
class SelectResult:
    variables: list[str]
    rows: list[list[Term | None]]

    def as_dicts(self) -> list[dict[str, Term | None]]:
        return [dict(zip(self.variables, row)) for row in self.rows]


@dataclass
class AskResult:
    value: bool


@dataclass
class GraphResult:
    """A CONSTRUCT or DESCRIBE result, as sorted N-Triples lines."""

    triples: list[tuple[Term, Term, Term]]

    def ntriples(self) -> str:
        lines = sorted({f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in self.triples})
        return "".join(line + "\n" for line in lines)


Result = SelectResult | AskResult | GraphResult


def write(result: SelectResult | AskResult, fmt: str, *, max_width: int | None = None) -> str:
    """A SELECT or ASK result in one of RESULT_FORMATS. `max_width` is for the table only: None cuts
    each cell at 80 characters, 0 cuts nothing, N makes every line fit N columns (a terminal's width)."""
    if fmt not in RESULT_FORMATS:
        raise ValueError(f"unknown results format {fmt!r}")
    if fmt == "table":
        return _table(result, max_width)
    return {"csv": _csv, "tsv": _tsv, "json": _json, "xml": _xml}[fmt](result)


CELL_WIDTH = 80  # a table cell's width when no line width is given
MIN_COLUMN = 4  # a column is never cut narrower than this (three characters and the ellipsis)


def _table(r: SelectResult | AskResult, max_width: int | None = None) -> str:
    if isinstance(r, AskResult):
        return ("yes" if r.value else "no") + "\n"
    # A table is for reading: long values are cut (the other formats give them whole).
    cells = [[" ".join(("" if t is None else t.short()).split()) for t in row] for row in r.rows]
    widths = [display_width(v) for v in r.variables]
    for row in cells:
        widths = [max(w, display_width(c)) for w, c in zip(widths, row)]
    if max_width is None:
        widths = [min(w, CELL_WIDTH) for w in widths]
    elif max_width > 0:
        widths = _fit(widths, max_width - 3 * (len(widths) - 1))

    def line(values: list[str]) -> str:
        return " | ".join(_pad(_cut(v, w), w) for v, w in zip(values, widths)).rstrip()

    out = [line(r.variables), "-+-".join("-" * w for w in widths)]
    out += [line(row) for row in cells]
    out.append(f"({len(r.rows)} row{'s' if len(r.rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def _fit(widths: list[int], room: int) -> list[int]:
    """Column widths that add up to at most `room`: the widest columns give way first, all down to
    one cap, none below MIN_COLUMN (a table too wide even then stays wider than asked)."""
    if sum(widths) <= room:
        return widths
    cap = max(widths)
    while cap > MIN_COLUMN and sum(min(w, cap) for w in widths) > room:
        cap -= 1
    return [min(w, cap) for w in widths]


def display_width(text: str) -> int:
    """Columns a terminal gives the text: wide East Asian characters and emoji take two, combining
    marks none."""
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def _cut(value: str, width: int) -> str:
    """The value shortened to `width` columns, its end replaced by an ellipsis where it was cut."""
    if display_width(value) <= width:
        return value
    out, used = [], 0
    for c in value:
        w = display_width(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def _pad(value: str, width: int) -> str:
    return value + " " * (width - display_width(value))


def _csv(r: SelectResult | AskResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if isinstance(r, AskResult):
        w.writerow(["_askResult"])
        w.writerow(["true" if r.value else "false"])
        return buf.getvalue()
    w.writerow(r.variables)
    for row in r.rows:
        w.writerow(["" if t is None else (f"_:{t.value}" if t.kind == "bnode" else t.value) for t in row])
    return buf.getvalue()


def _tsv(r: SelectResult | AskResult) -> str:
    if isinstance(r, AskResult):
        return "?_askResult\n" + ("true" if r.value else "false") + "\n"
    lines = ["\t".join("?" + v for v in r.variables)]
    lines += ["\t".join("" if t is None else t.n3() for t in row) for row in r.rows]
    return "\n".join(lines) + "\n"


def _json_term(t: Term) -> dict[str, str]:
    if t.kind == "uri":
        return {"type": "uri", "value": t.value}
    if t.kind == "bnode":
        return {"type": "bnode", "value": t.value}
    d = {"type": "literal", "value": t.value}
    if t.lang:
        d["xml:lang"] = t.lang
    elif t.datatype and t.datatype != XSD_STRING:
        d["datatype"] = t.datatype
    return d


def _json(r: SelectResult | AskResult) -> str:
    if isinstance(r, AskResult):
        doc: dict[str, object] = {"head": {}, "boolean": r.value}
    else:
        bindings = [
            {v: _json_term(t) for v, t in zip(r.variables, row) if t is not None} for row in r.rows
        ]
        doc = {"head": {"vars": r.variables}, "results": {"bindings": bindings}}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _refuse_xml(terms: list[Term | None], what: str, others: str) -> None:
    """XML 1.0 has no way to write U+0001 and the like: an XML result with one would be ill-formed."""
    found = not_xml_char(terms)
    if found:
        from jisr_kg.errors import QueryError

        term, char = found
        value = term.value if len(term.value) <= 40 else term.value[:39] + "…"
        raise QueryError(f"{what} cannot carry the value {value!r}: XML 1.0 has no way to write "
                         f"U+{ord(char):04X}; choose another format ({others})")


def _xml(r: SelectResult | AskResult) -> str:
    if isinstance(r, SelectResult):
        _refuse_xml([t for row in r.rows for t in row], "the SPARQL XML results format", "json, csv or tsv")
    out = ['<?xml version="1.0"?>', '<sparql xmlns="http://www.w3.org/2005/sparql-results#">', "  <head>"]
    if isinstance(r, AskResult):
        out += ["  </head>", f"  <boolean>{'true' if r.value else 'false'}</boolean>", "</sparql>"]
        return "\n".join(out) + "\n"
    out += [f"    <variable name={quoteattr(v)}/>" for v in r.variables]
    out += ["  </head>", "  <results>"]
    for row in r.rows:
        out.append("    <result>")
        for v, t in zip(r.variables, row):
            if t is None:
                continue
            if t.kind == "uri":
                body = f"<uri>{escape(t.value)}</uri>"
            elif t.kind == "bnode":
                body = f"<bnode>{escape(t.value)}</bnode>"
            elif t.lang:
                body = f"<literal xml:lang={quoteattr(t.lang)}>{escape(t.value)}</literal>"
            elif t.datatype and t.datatype != XSD_STRING:
                body = f"<literal datatype={quoteattr(t.datatype)}>{escape(t.value)}</literal>"
            else:
                body = f"<literal>{escape(t.value)}</literal>"
            out.append(f"      <binding name={quoteattr(v)}>{body}</binding>")
        out.append("    </result>")
    out += ["  </results>", "</sparql>"]
    return "\n".join(out) + "\n"


GRAPH_RESULT_FORMATS = formats.GRAPH_NAMES


def write_graph(result: GraphResult, fmt: str) -> bytes:
    """A CONSTRUCT/DESCRIBE result in an RDF format, sorted, with the prefixes it uses."""
    import pyoxigraph as ox

    if fmt not in GRAPH_RESULT_FORMATS:
        raise ValueError(f"unknown RDF format {fmt!r}")
    rdf_format = getattr(ox.RdfFormat, formats.rdf(fmt).oxigraph)

    if fmt == "xml":
        _refuse_xml([t for triple in result.triples for t in triple], "RDF/XML", "turtle, ntriples or jsonld")
    ordered = sorted(set(result.triples), key=ntriples_key)
    triples = [ox.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in ordered]
    if fmt in ("turtle", "xml"):
        used = {t.value for triple in result.triples for t in triple if t.kind == "uri"}
        prefixes = {p: ns for p, ns in PREFIXES.items() if any(u.startswith(ns) for u in used)}
        return ox.serialize(triples, format=rdf_format, prefixes=prefixes)
    return ox.serialize(triples, format=rdf_format)
