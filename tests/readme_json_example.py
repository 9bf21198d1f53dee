"""The README's JSON example, generated from the real report of the demo bundle.

``python tests/readme_json_example.py --write`` rewrites the block between the
``json-example`` markers in README.md; ``tests/test_readme.py`` fails when it is stale. The
example is the real document with two cuts, both said under it in the README: only the BL201
finding is kept, and ``fix.text`` stops after its first sentence.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
START = "<!-- json-example:start -->"
END = "<!-- json-example:end -->"
SHOWN_RULE = "BL201"


def demo_report() -> dict[str, Any]:
    """What `bundlelint --format json fixtures/demo/Demo.app` prints, run from the repo root."""
    proc = subprocess.run(
        [sys.executable, "-m", "bundlelint", "--format", "json", "fixtures/demo/Demo.app"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    if proc.returncode != 1:
        raise RuntimeError(f"demo lint exited {proc.returncode}: {proc.stderr}")
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def example(report: dict[str, Any]) -> str:
    """The README block for ``report``: the fenced JSON of its trimmed copy."""
    trimmed = dict(report)
    (shown,) = [f for f in report["findings"] if f["rule_id"] == SHOWN_RULE]
    shown = json.loads(json.dumps(shown))
    first_sentence, dot, rest = shown["fix"]["text"].partition(". ")
    if rest:
        shown["fix"]["text"] = f"{first_sentence}{dot.strip()} ..."
    trimmed["findings"] = [shown]
    return f"{START}\n```json\n{json.dumps(trimmed, indent=2, ensure_ascii=False)}\n```\n{END}"


def readme_block(text: str) -> str:
    start, end = text.index(START), text.index(END) + len(END)
    return text[start:end]


def main(argv: list[str]) -> int:
    text = README.read_text(encoding="utf-8")
    block = example(demo_report())
    if argv == ["--write"]:
        README.write_text(text.replace(readme_block(text), block), encoding="utf-8")
        return 0
    print(block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
