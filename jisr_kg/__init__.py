"""jisr-kg: the June 2011 Jisr ash-Shughur clashes as a knowledge graph of claims with provenance.

The public API (imported lazily, so that `import jisr_kg` stays cheap):

- `build_dataset(data=None)`: load, derive the consensus view, reason (cached) -> `BuiltDataset`
- `build_release(out_dir)`: the main job, every export and a VoID description in `dist/`
- `run_query(name, params)`: run a stored query (by name; or a `Path` to a `.rq` file)
  -> `SelectResult` / `AskResult` / `GraphResult`
- `validate_data(data=None)`: SHACL validation -> `ValidationReport`
- `export_data(fmt, infer=False)`: a deterministic serialisation of the dataset, as bytes
- `stats(data=None)`, `coverage_report(data=None)`: the figures of `jisr-kg stats` and `coverage`

The functions are not called `validate`, `export` or `coverage`: those are the modules that do the work,
and a package attribute cannot be both.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_API = {
    "build_dataset": "jisr_kg.pipeline.build",
    "build_release": "jisr_kg.pipeline.build",
    "run_query": "jisr_kg.api",
    "validate_data": "jisr_kg.api",
    "export_data": "jisr_kg.api",
    "stats": "jisr_kg.api",
    "coverage_report": "jisr_kg.pipeline.coverage",
    "stored_queries": "jisr_kg.sparql.query",
    "JisrError": "jisr_kg.errors",
    "find": "jisr_kg.search",  # find things by name (issue 14)
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'jisr_kg' has no attribute {name!r}")
