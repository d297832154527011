"""Coverage: which sentences and infobox lines of the source carry at least one claim.

The units are those of `data/source/units.tsv` (15 infobox values and 93 body sentences, with
code-point offsets). A unit is covered when some claim has an evidence span inside it. A span that
crosses a unit boundary is reported too: a span never carries more than one sentence.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from jisr_kg.errors import InputError
from jisr_kg.paths import project_root

_SPANS = """
PREFIX jkg: <https://w3id.org/jisr-kg/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT DISTINCT ?claim ?start ?end WHERE {
  GRAPH <https://w3id.org/jisr-kg/graph/asserted> {
    ?claim a jkg:Claim ; jkg:evidence ?span .
    ?span oa:hasSelector ?sel .
    ?sel oa:start ?start ; oa:end ?end .
  }
}
"""


@dataclass(frozen=True)
class Unit:
    kind: str  # "infobox" or "sentence"
    start: int
    end: int
    text: str


@dataclass
class CoverageReport:
    units: list[Unit]
    claims: dict[Unit, int]  # claims per unit
    crossing: list[tuple[str, int, int]] = field(default_factory=list)  # spans across units

    def covered(self, kind: str | None = None) -> list[Unit]:
        return [u for u in self.units if (kind is None or u.kind == kind) and self.claims.get(u, 0) > 0]

    def uncovered(self) -> list[Unit]:
        return [u for u in self.units if self.claims.get(u, 0) == 0]

    @property
    def complete(self) -> bool:
        return not self.uncovered() and not self.crossing

    def share(self, kind: str | None = None) -> float:
        total = [u for u in self.units if kind is None or u.kind == kind]
        return 100.0 * len(self.covered(kind)) / len(total) if total else 100.0

    def format(self) -> str:
        lines = []
        for kind, name in (("sentence", "body sentences"), ("infobox", "infobox lines")):
            total = sum(1 for u in self.units if u.kind == kind)
            lines.append(f"{name:15} {len(self.covered(kind)):4}/{total:<4} {self.share(kind):6.1f}%")
        lines.append(f"{'all units':15} {len(self.covered()):4}/{len(self.units):<4} {self.share():6.1f}%")
        missing = self.uncovered()
        if missing:
            lines.append("")
            lines.append(f"not covered ({len(missing)}):")
            lines += [f"  {u.kind} {u.start}-{u.end}: {_clip(u.text)}" for u in missing]
        if self.crossing:
            lines.append("")
            lines.append(f"evidence spans that cross a sentence or infobox line ({len(self.crossing)}):")
            lines += [f"  {claim} {s}-{e}" for claim, s, e in self.crossing]
        return "\n".join(lines) + "\n"


def read_units(path: Path | None = None) -> list[Unit]:
    path = path or project_root() / "data" / "source" / "units.tsv"
    units = []
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = [r for r in csv.reader(f, delimiter="\t") if r and not r[0].startswith("#")]
    except OSError as e:
        raise InputError(e.strerror or "cannot read", path=path) from None
    for number, row in enumerate(rows[1:], start=2):
        try:
            units.append(Unit(row[0], int(row[1]), int(row[2]), row[3]))
        except (IndexError, ValueError):
            raise InputError("expected kind, start, end, text separated by tabs", path=path, line=number) from None
    return units


def coverage_report(data: Path | list[Path] | None = None, *, units: Path | None = None) -> CoverageReport:
    """How much of the source the claims in the built dataset cover. The units are those of the
    data folder's own `source/units.tsv` where it has one, else the project's."""
    from jisr_kg.pipeline.build import ensure_store
    from jisr_kg.rdf.terms import compact
    from jisr_kg.sparql.query import run_oxigraph
    from jisr_kg.sparql.results import SelectResult

    if units is None and isinstance(data, Path) and (data / "source" / "units.tsv").is_file():
        units = data / "source" / "units.tsv"
    all_units = read_units(units)
    result = run_oxigraph(ensure_store(data), _SPANS)
    assert isinstance(result, SelectResult)
    counts: dict[Unit, set[str]] = {u: set() for u in all_units}
    crossing = []
    for claim, start, end in result.rows:
        try:
            s, e = int(start.value), int(end.value)
        except ValueError:
            raise InputError(f"{compact(claim.value)}: the evidence offsets {start.value!r}, {end.value!r} "
                             "are not whole numbers") from None
        inside = [u for u in all_units if u.start <= s and e <= u.end]
        for u in inside:
            counts[u].add(claim.value)
        if not inside and any(u.start < e and s < u.end for u in all_units):
            crossing.append((compact(claim.value), s, e))
    return CoverageReport(all_units, {u: len(c) for u, c in counts.items()}, sorted(crossing))


def _clip(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
