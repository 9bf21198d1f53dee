"""Render rule metadata: the ``rules`` listing, ``explain``, and the README table.

All three read ``RuleMeta`` and nothing else, so documentation cannot drift from the code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bundlelint.rules import Registry
from bundlelint.rules.base import SEVERITY_POLICY, Consequence, Evidence, RuleMeta


def evidence_to_dict(evidence: Evidence) -> dict[str, str]:
    return {"kind": evidence.kind.value, "text": evidence.text, "where": evidence.where}


def meta_to_dict(meta: RuleMeta) -> dict[str, Any]:
    return {
        "id": meta.id,
        "slug": meta.slug,
        "family": meta.family,
        "severity": meta.severity.value,
        "consequence": meta.consequence.key,
        "consequence_text": meta.consequence.value,
        "evidence": [evidence_to_dict(e) for e in meta.evidence],
        "summary": meta.summary,
        "what": meta.what,
        "why": meta.why,
        "how_to_fix": meta.how_to_fix,
        "fix_command": meta.fix_command,
        "fix_applicability": meta.fix_applicability.value,
        "references": list(meta.references),
        "notary_messages": list(meta.notary_messages),
        "notary_patterns": list(meta.notary_patterns),
        "aliases": list(meta.aliases),
    }


def rules_json(registry: Registry) -> str:
    return json.dumps([meta_to_dict(r.meta) for r in registry], indent=2) + "\n"


def rules_markdown_table(registry: Registry) -> str:
    """The rule table as it appears in README.md (a test keeps the two in sync)."""
    lines = ["| ID | Name | Severity | If ignored | Summary |", "| --- | --- | --- | --- | --- |"]
    for r in registry:
        m = r.meta
        lines.append(f"| {m.id} | {m.slug} | {m.severity.value} | {m.consequence.value} "
                     f"| {m.summary} |")
    return "\n".join(lines) + "\n"


def rules_rows(registry: Registry) -> list[tuple[str, str]]:
    """The ``rules`` listing as (``ID  slug  severity  ``, summary) rows: aligned columns, the
    summary last so that it can wrap under itself."""
    width = max((len(r.meta.slug) for r in registry), default=10)
    return [(f"{r.meta.id}  {r.meta.slug:<{width}}  {r.meta.severity.value:<7}  ",
             r.meta.summary) for r in registry]


def rules_text(registry: Registry) -> str:
    return "".join(f"{lead}{summary}\n" for lead, summary in rules_rows(registry))


def _evidence_line(evidence: Evidence) -> str:
    return f"{EVIDENCE_LABEL[evidence.kind.value]}: {evidence.text} ({evidence.where})"


#: How each kind of evidence is introduced in explain and the docs.
EVIDENCE_LABEL = {
    "apple-source": "Apple source",
    "apple-doc": "Apple documentation",
    "notary-message": "Notary message",
    "toolchain": "Toolchain",
    "policy": "bundlelint policy",
}


def explain_text(meta: RuleMeta) -> str:
    parts = [
        f"{meta.id} ({meta.slug}): {meta.summary}",
        f"Family: {meta.family}. Default severity: {meta.severity.value}.",
        f"If ignored: {meta.consequence.value} (so: {meta.severity.value}).",
        "",
        "Evidence",
        *(f"  - {_evidence_line(e)}" for e in meta.evidence),
        "",
        "What it checks",
        f"  {meta.what}",
        "",
        "Why it matters",
        f"  {meta.why}",
        "",
        "How to fix",
        f"  {meta.how_to_fix}",
    ]
    if meta.fix_command:
        parts += ["", f"  $ {meta.fix_command}"]
    if meta.notary_messages or meta.notary_patterns:
        parts += ["", "Apple notary messages it answers"]
        parts += [f"  - {m}" for m in meta.notary_messages]
        parts += [f"  - /{p}/" for p in meta.notary_patterns]
    if meta.references:
        parts += ["", "References"] + [f"  - {ref}" for ref in meta.references]
    if meta.aliases:
        parts += ["", f"Also answers to: {', '.join(meta.aliases)}"]
    return "\n".join(parts) + "\n"


# --- docs/consequences.md: the severity policy and every rule's consequence -----------------

CONSEQUENCES_PAGE = "docs/consequences.md"
REGENERATE_CONSEQUENCES = (
    f"python -m bundlelint.reporters.rules_doc --consequences {CONSEQUENCES_PAGE}"
)

#: What each consequence means, for the policy table of docs/consequences.md.
CONSEQUENCE_MEANING = {
    Consequence.NOTARY_REJECTS: "Apple's notary service marks the submission Invalid.",
    Consequence.CODESIGN_REFUSES: "`codesign` fails to sign (or to verify strictly) the bundle.",
    Consequence.GATEKEEPER_BLOCKS: "Apple's verifier fails the signature, so Gatekeeper refuses "
                                   "the first launch.",
    Consequence.CANNOT_START: "The kernel or dyld kills the process, or it never starts.",
    Consequence.MAY_FAIL: "Apple lets it through; it fails at run time in some cases.",
    Consequence.ADVICE: "Nothing fails; the finding is a better way to do it.",
    Consequence.NOT_CHECKED: "bundlelint's own verdict: part of the input could not be checked, "
                             "so a CI gate must not pass it.",
    Consequence.EXPECTATION_BROKEN: "bundlelint's own verdict: the build differs from a value "
                                    "your configuration requires.",
}


def short_evidence(evidence: Evidence) -> str:
    """One line naming the evidence: the Apple function, the page, the notary message."""
    kind = evidence.kind.value
    if kind == "apple-source":
        file_name = evidence.where.rsplit("/", 1)[-1]
        return f"{file_name} {evidence.text.split(': ', 1)[0]}"
    if kind == "notary-message":
        return f"notary: \"{evidence.text}\""
    if kind == "policy":
        return "bundlelint policy"
    # the page's own name: the last path segment that is more than a platform tag ("mac")
    segments = [p for p in evidence.where.split("://", 1)[-1].split("/")[1:] if len(p) > 3]
    page = segments[-1] if segments else evidence.where
    return f"{EVIDENCE_LABEL[kind]}: {page}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def consequences_markdown(registry: Registry) -> str:
    """docs/consequences.md: the policy, then every rule with its consequence and evidence."""
    lines = [
        "# What happens if a finding is ignored",
        "",
        f"<!-- Generated from the rule metadata by `{REGENERATE_CONSEQUENCES}`. Do not edit. -->",
        "",
        "Every rule states its consequence: what Apple's tools or macOS do if the finding is "
        "ignored, with the evidence (Apple's open source, Apple's documentation, or Apple's exact "
        "notary message as real logs show it). The severity is not chosen per rule: it follows "
        "from the consequence by this one policy.",
        "",
        "| If ignored | Severity | Meaning |",
        "| --- | --- | --- |",
        *(f"| {c.value} | {SEVERITY_POLICY[c].value} | {CONSEQUENCE_MEANING[c]} |"
          for c in Consequence),
        "",
        "The last two rows are bundlelint's own verdicts, not Apple's, and their evidence says "
        "so (`bundlelint policy`). Where Apple's source or a real artifact showed that Apple "
        "does not act on a finding, the rule says what may fail instead, at the lower severity.",
        "",
        "| ID | Name | If ignored | Severity | Evidence |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in registry:
        m = r.meta
        evidence = "; ".join(_cell(short_evidence(e)) for e in m.evidence)
        lines.append(f"| {m.id} | {m.slug} | {m.consequence.value} | {m.severity.value} "
                     f"| {evidence} |")
    return "\n".join(lines) + "\n"


# --- one Markdown page per rule (docs/rules/BLxxx.md) -------------------------------------------

#: Where the project lives; rule pages are linked from SARIF (helpUri) through it.
PROJECT_URL = "https://github.com/bundlelint/bundlelint"
DOCS_DIR = "docs/rules"
INDEX_PAGE = "README.md"
REGENERATE = "python -m bundlelint.reporters.rules_doc --write docs/rules"


def rule_doc_url(rule_id: str) -> str:
    """The absolute URL of a rule's page in the repository (SARIF ``helpUri``)."""
    return f"{PROJECT_URL}/blob/main/{DOCS_DIR}/{rule_id}.md"


def _fenced(text: str, lang: str = "sh") -> list[str]:
    fence = "````" if "```" in text else "```"
    return [f"{fence}{lang}", text, fence]


def rule_page_markdown(meta: RuleMeta) -> str:
    """A rule's documentation page, with the same fixed sections as ``explain``."""
    lines = [
        f"# {meta.id}: {meta.slug}",
        "",
        f"<!-- Generated from the rule's metadata by `{REGENERATE}`. Do not edit. -->",
        "",
        f"**{meta.summary}.**",
        "",
        f"- Family: {meta.family}",
        f"- Default severity: {meta.severity.value}",
        f"- If ignored: {meta.consequence.value}",
        f"- Fix applicability: {meta.fix_applicability.value}",
    ]
    if meta.aliases:
        lines.append(f"- Also answers to: {', '.join(meta.aliases)}")
    lines += ["", "## What it checks", "", meta.what, "", "## Why it matters", "", meta.why, "",
              "## Evidence", "", *(f"- {_evidence_line(e)}" for e in meta.evidence), "",
              "## How to fix", "", meta.how_to_fix]
    if meta.fix_command:
        lines += ["", *_fenced(meta.fix_command)]
    if meta.notary_messages or meta.notary_patterns:
        lines += ["", "## Apple notary messages", ""]
        lines += [f"- `{m}`" for m in meta.notary_messages]
        lines += [f"- pattern `{p}`" for p in meta.notary_patterns]
    if meta.references:
        lines += ["", "## References", ""] + [f"- {ref}" for ref in meta.references]
    lines += [
        "",
        "## Configuration",
        "",
        f"Turn it off with `--ignore {meta.id}`, or in `[tool.bundlelint]` / `bundlelint.toml`:",
        "",
        *_fenced(f'ignore = ["{meta.id}"]\n# or change its severity:\n'
                 f'severity = {{ {meta.id} = "warning" }}', "toml"),
    ]
    return "\n".join(lines) + "\n"


def rules_index_markdown(registry: Registry) -> str:
    """docs/rules/README.md: every rule with a link to its page."""
    lines = [
        "# Rules",
        "",
        f"<!-- Generated from the rule metadata by `{REGENERATE}`. Do not edit. -->",
        "",
        "| ID | Name | Severity | If ignored | Summary |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in registry:
        m = r.meta
        lines.append(f"| [{m.id}]({m.id}.md) | {m.slug} | {m.severity.value} "
                     f"| {m.consequence.value} | {m.summary} |")
    return "\n".join(lines) + "\n"


def rule_pages(registry: Registry) -> dict[str, str]:
    """Every generated file of docs/rules, by file name."""
    pages = {f"{r.meta.id}.md": rule_page_markdown(r.meta) for r in registry}
    pages[INDEX_PAGE] = rules_index_markdown(registry)
    return pages


def stale_pages(registry: Registry, directory: Path) -> list[str]:
    """Files of ``directory`` that are missing, out of date, or no longer generated."""
    wanted = rule_pages(registry)
    problems = []
    for name, text in sorted(wanted.items()):
        path = directory / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{name}: out of date")
    if directory.is_dir():
        for path in sorted(directory.glob("*.md")):
            if path.name not in wanted:
                problems.append(f"{path.name}: no such rule (delete it)")
    return problems


def write_pages(registry: Registry, directory: Path) -> list[str]:
    """Write every page (and delete pages of rules that no longer exist); returns what
    changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = stale_pages(registry, directory)
    wanted = rule_pages(registry)
    for name, text in wanted.items():
        (directory / name).write_text(text, encoding="utf-8")
    for path in directory.glob("*.md"):
        if path.name not in wanted:
            path.unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    """``python -m bundlelint.reporters.rules_doc --write docs/rules`` (or ``--check``)."""
    import argparse

    from bundlelint.rules import load_registry

    parser = argparse.ArgumentParser(prog="python -m bundlelint.reporters.rules_doc",
                                     description="Generate docs/rules from the rule metadata.")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", metavar="DIR", type=Path, help="write the pages into DIR")
    group.add_argument("--check", metavar="DIR", type=Path,
                       help="exit 1 if DIR is missing a page or has a stale one")
    group.add_argument("--consequences", metavar="FILE", type=Path,
                       help="write the consequence table (docs/consequences.md) to FILE")
    args = parser.parse_args(argv)
    registry = load_registry(plugins=False)
    if args.consequences is not None:
        args.consequences.write_text(consequences_markdown(registry), encoding="utf-8")
        print(f"wrote {args.consequences}")
        return 0
    if args.write is not None:
        changed = write_pages(registry, args.write)
        for line in changed:
            print(f"updated {line}")
        print(f"{len(registry)} rule pages in {args.write} ({len(changed)} changed)")
        return 0
    problems = stale_pages(registry, args.check)
    for line in problems:
        print(f"{args.check}/{line}")
    if problems:
        print(f"run `{REGENERATE}`")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
