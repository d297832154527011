"""Docs: HTML documentation of the ontology, written by pyLODE."""

from __future__ import annotations

from pathlib import Path

from jisr_kg.errors import JisrError
from jisr_kg.fsutil import check_output_file, write_atomic
from jisr_kg.paths import project_root
from jisr_kg.pipeline.build import Progress


def write_docs(output: Path, *, progress: Progress | None = None) -> Path:
    """Write the ontology's HTML documentation to `output` and return its path. The default lies
    outside `dist/`, which the next build replaces."""
    import logging

    from jisr_kg.pipeline.build import input_paths

    target = check_output_file(output, protected=input_paths())
    try:
        from pylode import OntPub
    except ImportError:
        raise JisrError("the docs command needs pyLODE: pip install 'jisr-kg[docs]'") from None
    # pyLODE configures the root logger at import; its debug chatter is not for our users.
    logging.getLogger().setLevel(logging.WARNING)
    if progress:
        progress("writing the ontology documentation")
    ontology = project_root() / "ontology" / "ontology.ttl"
    html = OntPub(ontology=str(ontology), sort_subjects=True).make_html(include_css=True)
    write_atomic(target, html.encode("utf-8"))
    return output
