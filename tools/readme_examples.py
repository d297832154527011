"""Keep the example outputs of the README and docs/*.md true: run every `$ jisr-kg ...` line of their
```console blocks (in a temporary folder, so that `jisr-kg build` does not write the checkout's dist/).

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
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
TIMING = re.compile(r"\b\d+(\.\d+)? s\b")


def run(command: str, cwd: Path) -> str:
    cmd = re.sub(r"(^|\|\s*)jisr-kg\b", lambda m: f"{m.group(1)}{sys.executable} -m jisr_kg", command)
    r = subprocess.run(["bash", "-c", cmd], cwd=cwd, capture_output=True, text=True,
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
    import tempfile

    write = "--write" in sys.argv
    stale = 0
    with tempfile.TemporaryDirectory(prefix="jisr-kg-examples-") as cwd:
        for doc in DOCS:
            text = doc.read_text(encoding="utf-8")
            found = examples(text)
            for start, end, command, shown in reversed(found):
                actual = run(command, Path(cwd))
                if normalise(actual) != normalise(shown):
                    stale += 1
                    if write:
                        text = text[:start] + actual.rstrip("\n") + "\n" + text[end:]
                    else:
                        name = doc.relative_to(ROOT)
                        print(f"stale output in {name} for: $ {command}")
                        diff = difflib.unified_diff(normalise(shown).splitlines(), normalise(actual).splitlines(),
                                                    str(name), "actual", lineterm="", n=1)
                        print("\n".join(list(diff)[:40]))
            if write and found:
                doc.write_text(text, encoding="utf-8")
    if write:
        print(f"updated {stale} example(s)")
        return 0
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
