"""Print the Turtle of the evidence span for a quote: `python tools/span.py "exact words" [N]`.

N picks the N-th occurrence (1-based) when the quote occurs more than once.
"""

from __future__ import annotations

import sys
from pathlib import Path

TEXT = (Path(__file__).resolve().parent.parent / "data/source/june-2011-jisr-ash-shughur-clashes.txt").read_text(
    encoding="utf-8"
)


def span_turtle(quote: str, occurrence: int = 1) -> str:
    start = -1
    for _ in range(occurrence):
        start = TEXT.find(quote, start + 1)
        if start < 0:
            raise SystemExit(f"not found (occurrence {occurrence}): {quote!r}")
    end = start + len(quote)
    exact = quote.replace("\\", "\\\\").replace('"', '\\"')
    return (
        f"span:{start}-{end} a oa:SpecificResource ;\n"
        f"    oa:hasSource src:june-2011-jisr-ash-shughur-clashes ;\n"
        f"    oa:hasSelector sel:{start}-{end} .\n"
        f"sel:{start}-{end} a oa:TextPositionSelector ;\n"
        f"    oa:start {start} ; oa:end {end} ;\n"
        f'    oa:exact "{exact}" .\n'
    )


if __name__ == "__main__":
    print(span_turtle(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1))
