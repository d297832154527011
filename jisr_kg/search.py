"""Finding things by name: entities and claims whose label (or other name) contains a text, ignoring
case and accents, exact matches first.

Used by `jisr-kg find`, the Python API (`jisr_kg.find`) and the /search page of the server and the
static site. The labels are read once per store into a small in-memory index (a few hundred entries
at 1x, tens of thousands at 100x): a substring test over normalised strings is fast enough and needs
no full-text engine, which Oxigraph does not have.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jisr_kg.rdf.namespaces import ID, JKG
from jisr_kg.rdf.terms import compact
from jisr_kg.sparql.results import SelectResult

#: Runs a SELECT and returns its result (the server's ctx.select, or a store opened here).
Select = Callable[[str], SelectResult]

# Every named thing under id/: its labels and other names, and its asserted types (the inferred ones
# add superclasses, which would make every Person also an Actor in the kind column).
_LABELS = f"""
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?s ?name ?alt ?type WHERE {{
  GRAPH <https://w3id.org/jisr-kg/graph/asserted> {{
    {{ ?s rdfs:label ?name BIND(false AS ?alt) }} UNION {{ ?s skos:altLabel ?name BIND(true AS ?alt) }}
    OPTIONAL {{ ?s a ?type }}
  }}
  FILTER (STRSTARTS(STR(?s), "{ID}"))
}}
"""

#: The kinds readers look for (ranked ahead of claims, and claims ahead of the rest).
_KINDS = frozenset({"Person", "Organisation", "ArmedGroup", "MilitaryUnit", "Collective", "UnnamedSource", "State",
                    "Country", "Region", "Settlement", "WaterBody", "Facility", "Event", "SourceDocument"})


def fold(text: str) -> str:
    """The text without accents and case, for matching: "Darā" and "DARA" both give "dara".
    Letters that carry no combining mark (ʿ, ‘) are kept; NFKD also splits ligatures."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class Match:
    """One thing found: its IRI, its label, the name that matched (a label or another name), its kind
    (the local names of its asserted types, e.g. "Person") and how well it matched."""

    iri: str
    label: str
    matched: str
    kind: str
    rank: int  # 0 exact, 1 a word of the name starts with the text, 2 contains it

    @property
    def name(self) -> str:
        """The prefixed name, e.g. actor:joshua-landis."""
        return compact(self.iri)

    @property
    def exact(self) -> bool:
        return self.rank == 0

    def as_dict(self) -> dict[str, str | bool]:
        return {"iri": self.iri, "name": self.name, "label": self.label, "kind": self.kind,
                "matched": self.matched, "exact": self.exact}


@dataclass(frozen=True)
class _Entry:
    iri: str
    label: str
    kind: str
    names: tuple[tuple[str, str], ...]  # (name, folded name with single spaces), folded once
    group: int = 2  # 0 actors, units, places, events; 1 claims; 2 the rest
    sort_label: str = ""

    def __lt__(self, other: _Entry) -> bool:  # never decides an order (the IRI before it differs)
        return self.iri < other.iri


class SearchIndex:
    """The labels of one store, folded once."""

    def __init__(self, entries: list[_Entry]) -> None:
        self.entries = entries

    @classmethod
    def from_select(cls, select: Select) -> SearchIndex:
        labels: dict[str, str] = {}
        names: dict[str, dict[str, None]] = {}
        kinds: dict[str, set[str]] = {}
        for s, name, alt, typ in select(_LABELS).rows:
            if s is None or name is None:
                continue
            names.setdefault(s.value, {})[name.value] = None
            if alt is not None and alt.value == "false":
                # the shortest label wins where a thing has several (stable across runs)
                old = labels.get(s.value)
                if old is None or (len(name.value), name.value) < (len(old), old):
                    labels[s.value] = name.value
            if typ is not None:
                kinds.setdefault(s.value, set()).add(_local(typ.value))
        entries = []
        for iri, found in names.items():
            label = labels.get(iri) or next(iter(found))
            kind = ", ".join(sorted(kinds.get(iri, ()))) or "Thing"
            entries.append(_Entry(iri, label, kind, tuple((n, " ".join(fold(n).split())) for n in found),
                                  _group(kind), fold(label)))
        return cls(entries)

    def find(self, text: str, *, limit: int | None = None, kinds: tuple[str, ...] = ()) -> list[Match]:
        """Things with a name that contains `text` (case and accents ignored): exact matches first, then
        names with a word that starts with it, then the rest. Within each: actors, units, places and
        events, then claims, then the rest (mappings, geometries); shorter labels first."""
        q = " ".join(fold(text).split())
        if not q:
            return []
        # a word starts with q: q at the start, or after a character that is not a letter or digit
        word = re.compile(r"(?<![^\W_])" + re.escape(q))
        found = []
        for e in self.entries:
            if kinds and not any(k in e.kind.split(", ") for k in kinds):
                continue
            best: tuple[int, str] | None = None
            for name, folded in e.names:
                if q not in folded:
                    continue
                rank = 0 if folded == q else 1 if word.search(folded) else 2
                if best is None or rank < best[0] or (rank == best[0] and name == e.label):
                    best = (rank, name)
            if best is not None:
                found.append((best[0], e.group, len(e.label), e.sort_label, e.iri, e, best[1]))
        # only the first `limit` are made into matches: a short text ("a") matches nearly everything
        top = heapq.nsmallest(limit, found) if limit is not None else sorted(found)
        return [Match(e.iri, e.label, matched, e.kind, rank) for rank, _, _, _, _, e, matched in top]


def _group(kind: str) -> int:
    first = kind.split(", ")[0]
    return 1 if first == "Claim" else 0 if first in _KINDS else 2


def _local(iri: str) -> str:
    if iri.startswith(JKG):
        return iri[len(JKG):]
    return compact(iri)


_INDEXES: dict[str, SearchIndex] = {}


def index_for_store(store_path: Path) -> SearchIndex:
    """The index of an on-disk store, made once per process (a store's path names its content: the
    cache key of the build)."""
    key = str(store_path)
    if key not in _INDEXES:
        _INDEXES[key] = SearchIndex.from_select(store_select(store_path))
    return _INDEXES[key]


def store_select(store_path: Path) -> Select:
    """A Select over the store at `store_path`, opened once (read-only)."""
    import pyoxigraph as ox

    from jisr_kg.sparql.query import from_oxigraph

    store = ox.Store.read_only(str(store_path))

    def select(text: str) -> SelectResult:
        result = from_oxigraph(store.query(text, use_default_graph_as_union=True))
        assert isinstance(result, SelectResult)
        return result

    return select


def find(text: str, *, limit: int | None = None, data: Path | list[Path] | None = None) -> list[Match]:
    """Entities and claims whose label or other name contains `text`, ignoring case and accents; exact
    matches first. Each `Match` has `iri`, `name` (prefixed), `label`, `kind` and `exact`.

    >>> from jisr_kg import find
    >>> [m.name for m in find("dara")][:1]
    ['place:daraa']
    """
    from jisr_kg.pipeline.build import ensure_store

    return index_for_store(ensure_store(data)).find(text, limit=limit)
