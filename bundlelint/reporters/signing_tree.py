"""The words for one node of the signing tree (``analysis.inspection.signing_tree_record``):
what ``inspect`` prints beside each node and the HTML report shows above the findings, from
one function so the two always say the same thing. Plain, unescaped text: each renderer
escapes it for its medium."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

APPLE_ROOT = "rooted at a pinned Apple root"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def count_steps(node: Mapping[str, Any]) -> int:
    """How many ``codesign`` (or ``productsign``) steps the tree takes: every node with an
    ``order`` (a zip archive has none: it is never signed)."""
    own = 1 if node["order"] is not None else 0
    return own + sum(count_steps(child) for child in node["children"])


def relative_path(node: Mapping[str, Any], parent: str) -> str:
    """The node's path below its parent node's (the whole path for the root)."""
    path: str = node["path"]
    return path[len(parent) + 1:] if parent and path.startswith(parent + "/") else path


def signature_summary(sig: Mapping[str, Any]) -> str:
    """``Developer ID Application (TEAMID) · hardened runtime · timestamp · 2 entitlements``."""
    state = sig["state"]
    if state == "mixed":
        state = ", ".join(f"{kind} ({arch})" for arch, kind in sig["slices"].items())
    elif sig.get("team_id"):
        state = f"{state} ({sig['team_id']})"
    parts = [state]
    if sig.get("chain") and sig["chain"] != APPLE_ROOT:
        parts.append(f"chain {sig['chain']}")
    if "hardened_runtime" in sig:
        parts.append("hardened runtime" if sig["hardened_runtime"] else "no hardened runtime")
    if sig.get("timestamp"):
        parts.append("timestamp")
    if sig.get("entitlements"):
        count = len(sig["entitlements"])
        parts.append(f"{count} entitlement{'s' if count != 1 else ''}")
    return " · ".join(parts)


def node_facts(node: Mapping[str, Any], total: int) -> list[str]:
    """Kind, signing position, signature state, seal and staple facts of one node."""
    position = (f"signed {ordinal(node['order'])} of {total}" if node["order"] is not None
                else "never signed")
    facts = [node["kind"], position, signature_summary(node["signature"])]
    sealed = node["sealed_by"]
    if sealed is not None:
        if not sealed["recorded"]:
            facts.append("not in the parent's seal")
        elif sealed.get("cdhash_matches") is False:
            facts.append("sealed with another cdhash (changed after signing)")
        else:
            facts.append("sealed")
    stapled = node["stapled"]
    if stapled:
        facts.append("stapled" + _ticket_remark(stapled))
    return facts


def _ticket_remark(stapled: bool | Mapping[str, Any]) -> str:
    """What offline checks found wrong with a stapled ticket, if anything."""
    if not isinstance(stapled, Mapping):
        return ""
    if stapled.get("error"):
        return " (unreadable ticket)"
    if stapled.get("lists_this_code") is False:
        return " (the ticket does not list this code)"
    if not stapled.get("trusted"):
        return " (the ticket's Apple signature does not verify)"
    return ""
