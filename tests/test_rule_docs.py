"""docs/rules: one generated page per rule, kept in sync with the metadata."""

from __future__ import annotations

from pathlib import Path

from lintutil import REGISTRY

from bundlelint.reporters.rules_doc import (
    REGENERATE,
    main,
    rule_page_markdown,
    rule_pages,
    stale_pages,
)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"


def test_every_rule_page_is_present_and_current() -> None:
    problems = stale_pages(REGISTRY, DOCS)
    assert problems == [], f"docs/rules is stale; run `{REGENERATE}`: {problems}"


def test_stale_missing_and_orphan_pages_are_detected(tmp_path: Path) -> None:
    docs = tmp_path / "rules"
    assert main(["--write", str(docs)]) == 0
    assert stale_pages(REGISTRY, docs) == []
    (docs / "BL201.md").write_text((docs / "BL201.md").read_text() + "edited\n")
    (docs / "BL202.md").unlink()
    (docs / "BL999.md").write_text("# gone\n")
    assert stale_pages(REGISTRY, docs) == [
        "BL201.md: out of date", "BL202.md: missing", "BL999.md: no such rule (delete it)"]
    assert main(["--check", str(docs)]) == 1
    assert main(["--write", str(docs)]) == 0
    assert stale_pages(REGISTRY, docs) == []
    assert not (docs / "BL999.md").exists()


def test_page_has_the_fixed_sections() -> None:
    page = rule_page_markdown(REGISTRY.meta("BL301"))
    headings = [line for line in page.splitlines() if line.startswith(("# BL", "## "))]
    assert headings == ["# BL301: get-task-allow", "## What it checks", "## Why it matters",
                        "## Evidence", "## How to fix", "## Apple notary messages",
                        "## Configuration"]
    assert ("- `The executable requests the com.apple.security.get-task-allow entitlement.`"
            in page)


def test_index_links_every_page() -> None:
    pages = rule_pages(REGISTRY)
    index = pages.pop("README.md")
    for name in pages:
        assert f"]({name})" in index
    assert len(pages) == len(REGISTRY)
