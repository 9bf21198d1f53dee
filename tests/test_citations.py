"""Sources cited in the repository are public or in the repository: Apple's source files, Go's,
documentation pages, real artifacts, or the project's own ``docs/formats.md``. The team's
notebook outside the repository is not part of the product, so nothing here may point at it.

The one path outside the repository the tests may *read* is the directory of real public samples
(``../shared/samples/``, skipped where absent); that is data, not a citation, and is allowed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORMATS = REPO / "docs" / "formats.md"
THIS = Path(__file__).resolve()
SKIP_DIRS = {".git", ".venv", ".venv-ci", ".cache", "build", "dist", "__pycache__",
             ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}

OUTSIDE = re.compile(r"shared/(?!samples/)")
BARE_FORMATS = re.compile(r"(?<!docs/)\bformats\.md")
CITATION = re.compile(  # "docs/formats.md 2.4", "section 4", "2.9-2.12", "\u00a71\u20132"
    r"docs/formats\.md(?: section| \u00a7)? ?(\d+(?:\.\d+)?)(?:[-\u2013](\d+(?:\.\d+)?))?")


def _repo_files() -> list[Path]:
    git = shutil.which("git")
    if git is not None and (REPO / ".git").exists():
        listed = subprocess.run([git, "ls-files", "--cached", "--others", "--exclude-standard"],
                                cwd=REPO, capture_output=True, text=True, check=True)
        paths = [REPO / line for line in listed.stdout.splitlines()]
    else:
        paths = [p for p in REPO.rglob("*")
                 if not SKIP_DIRS.intersection(p.relative_to(REPO).parts)]
    return sorted(p for p in paths if p.is_file() and not p.is_symlink() and p != THIS)


def _texts() -> dict[str, str]:
    texts = {}
    for path in _repo_files():
        data = path.read_bytes()
        if b"\0" in data:
            continue  # a binary (the demo's Mach-O, fixtures)
        texts[path.relative_to(REPO).as_posix()] = data.decode("utf-8", "replace")
    return texts


def test_nothing_outside_docs_cites_the_notebook_outside_the_repository() -> None:
    texts = _texts()
    assert "README.md" in texts and "bundlelint/cli.py" in texts  # the walk found the repo
    offending = [
        f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for name, text in texts.items() if not name.startswith("docs/")
        for m in [*OUTSIDE.finditer(text), *BARE_FORMATS.finditer(text)]
    ]
    assert offending == []


def test_every_cited_section_of_docs_formats_exists() -> None:
    headings = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", FORMATS.read_text(), re.M))
    assert {"1", "2", "2.4", "2.12", "3", "4", "5.5", "6", "7"} <= headings
    cited = {
        (name, section)
        for name, text in _texts().items()
        for m in CITATION.finditer(text)
        for section in m.groups() if section is not None
    }
    assert len(cited) > 20  # the parsers, fixtures and tests do cite it
    assert sorted((n, s) for n, s in cited if s not in headings) == []
