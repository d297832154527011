"""What every command shell shares."""

from __future__ import annotations

import argparse
from pathlib import Path


def data_folder(args: argparse.Namespace) -> Path | None:
    """The `--data DIR` given on the command line, or None for the project's data."""
    return Path(args.data) if getattr(args, "data", None) else None
