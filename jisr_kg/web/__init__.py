"""The read-only web server: `jisr-kg serve` (the SPARQL 1.1 Protocol, the stored queries as a web API,
the graph's IRIs resolving to their descriptions) and, beside it, the HTML pages."""

from __future__ import annotations
