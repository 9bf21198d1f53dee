"""Render rule metadata: the ``rules`` listing, ``explain``, and the README table.

All three read ``RuleMeta`` and nothing else, so documentation cannot drift from the code.
"""

from __future__ import annotations

import json
from typing import Any

from bundlelint.rules import Registry
from bundlelint.rules.base import RuleMeta


def meta_to_dict(meta: RuleMeta) -> dict[str, Any]:
    return {
        "id": meta.id,
        "slug": meta.slug,
        "family": meta.family,
        "severity": meta.severity.value,
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
    lines = ["| ID | Name | Severity | Summary |", "| --- | --- | --- | --- |"]
    for r in registry:
        m = r.meta
        lines.append(f"| {m.id} | {m.slug} | {m.severity.value} | {m.summary} |")
    return "\n".join(lines) + "\n"


def rules_text(registry: Registry) -> str:
    width = max((len(r.meta.slug) for r in registry), default=10)
    return "".join(
        f"{r.meta.id}  {r.meta.slug:<{width}}  {r.meta.severity.value:<7}  {r.meta.summary}\n"
        for r in registry
    )


def explain_text(meta: RuleMeta) -> str:
    parts = [
        f"{meta.id} ({meta.slug}): {meta.summary}",
        f"Family: {meta.family}. Default severity: {meta.severity.value}.",
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
