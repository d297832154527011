"""Keep the README's example output true: run every `$ jisr-kg ...` line of its ```console blocks.

    python tools/readme_examples.py --check   # exit 1 and show a diff when an output is stale
    python tools/readme_examples.py --write   # rewrite the outputs in place

Timings ("in 2.31 s") are compared as "in N s". tests/test_readme.py runs --check.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
TIMING = re.compile(r"\b\d+(\.\d+)? s\b")


def run(command: str) -> str:
    cmd = re.sub(r"(^|\|\s*)jisr-kg\b", lambda m: f"{m.group(1)}{sys.executable} -m jisr_kg", command)
    r = subprocess.run(["bash", "-c", cmd], cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    return r.stdout


def examples(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, command, shown output) for every command in a console block."""
    found = []
    for block in BLOCK.finditer(text):
        body, offset = block.group(1), block.start(1)
        parts = list(re.finditer(r"^\$ (.*)\n", body, re.M))
        for i, part in enumerate(parts):
            end = parts[i + 1].start() if i + 1 < len(parts) else len(body)
            found.append((offset + part.end(), offset + end, part.group(1), body[part.end():end]))
    return found


def normalise(output: str) -> str:
    return TIMING.sub("N s", "\n".join(line.rstrip() for line in output.rstrip("\n").splitlines()))


def main() -> int:
    write = "--write" in sys.argv
    text = README.read_text(encoding="utf-8")
    stale = 0
    for start, end, command, shown in reversed(examples(text)):
        actual = run(command)
        if normalise(actual) != normalise(shown):
            stale += 1
            if write:
                text = text[:start] + actual.rstrip("\n") + "\n" + text[end:]
            else:
                print(f"stale output for: $ {command}")
                diff = difflib.unified_diff(normalise(shown).splitlines(), normalise(actual).splitlines(),
                                            "README", "actual", lineterm="", n=1)
                print("\n".join(list(diff)[:40]))
    if write:
        README.write_text(text, encoding="utf-8")
        print(f"updated {stale} example(s)")
        return 0
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
