"""Baselines: record today's findings once, then report only new ones.

A finding's fingerprint is its rule ID, its path *inside* the input (so renaming ``Demo.app`` or
building into another directory keeps the baseline valid), its architecture, and a stable
detail: the message with the input's name, hexadecimal and decimal numbers blanked (offsets,
flags, sizes, versions and counts shift between builds; the words do not). Byte offsets and
the fix command are never part of it.

The file is JSON with a ``version``, sorted, with no timestamps, so that it diffs well in
review. Each entry keeps its readable parts beside the fingerprint; on load the fingerprint is
recomputed from them with the rule ID resolved through the registry, so a renamed rule keeps
matching its old entries. Matching counts: two identical findings in the baseline excuse two.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from bundlelint import __version__
from bundlelint.display import unicode_safe
from bundlelint.engine import Report
from bundlelint.errors import UsageError
from bundlelint.findings import Finding
from bundlelint.paths import input_relative
from bundlelint.rules import Registry

BASELINE_VERSION = 1
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_NUMBER = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def stable_detail(message: str, input_name: str) -> str:
    """The part of a message that survives a rebuild."""
    text = message.replace(input_name, "{input}")
    text = _HEX.sub("#", text)
    text = _NUMBER.sub("#", text)
    return _SPACE.sub(" ", text).strip()


def _hash(rule_id: str, path: str, arch: str, detail: str) -> str:
    key = "\x1f".join((rule_id, path, arch, detail)).encode("utf-8", "surrogatepass")
    return hashlib.sha256(key).hexdigest()[:20]


def entry_for(finding: Finding, input_name: str) -> dict[str, str]:
    """The baseline record of one finding. Its strings are valid Unicode: a file name that is
    not UTF-8 is recorded (and fingerprinted) as shown, ``\xff``, so the file is plain UTF-8
    JSON and matches the same name again on the next run."""
    path = unicode_safe(input_relative(finding.location.path, input_name))
    arch = unicode_safe(finding.location.arch or "")
    detail = unicode_safe(stable_detail(finding.message, input_name))
    return {
        "fingerprint": _hash(finding.rule_id, path, arch, detail),
        "rule_id": finding.rule_id,
        "path": path,
        "arch": arch,
        "detail": detail,
    }


def fingerprint(finding: Finding, input_name: str) -> str:
    return entry_for(finding, input_name)["fingerprint"]


def baseline_document(reports: list[Report]) -> dict[str, Any]:
    entries = [entry_for(f, r.input_name) for r in reports for f in r.findings]
    entries.sort(key=lambda e: (e["path"], e["arch"], e["rule_id"], e["detail"]))
    return {
        "version": BASELINE_VERSION,
        "tool": {"name": "bundlelint", "version": __version__},
        "findings": entries,
    }


def write_baseline(reports: list[Report], path: Path) -> int:
    """Write the findings of ``reports`` to ``path``; returns how many were recorded."""
    doc = baseline_document(reports)
    try:
        path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write baseline {path}: {exc.strerror or exc}") from None
    return len(doc["findings"])


def load_baseline(path: Path, registry: Registry) -> Counter[str]:
    """The fingerprints recorded in ``path`` (with multiplicity); a bad file is a usage error."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"baseline {path} is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("version") != BASELINE_VERSION:
        version = doc.get("version") if isinstance(doc, dict) else None
        raise UsageError(f"baseline {path} has version {version!r}; this bundlelint reads "
                         f"version {BASELINE_VERSION} (rewrite it with --write-baseline)")
    entries = doc.get("findings")
    if not isinstance(entries, list):
        raise UsageError(f"baseline {path}: 'findings' must be a list")
    counts: Counter[str] = Counter()
    for i, entry in enumerate(entries):
        fields = ("rule_id", "path", "arch", "detail")
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in fields):
            raise UsageError(f"baseline {path}: findings[{i}] needs string fields "
                             f"{', '.join(fields)}")
        rule_id = registry.resolve(entry["rule_id"])
        counts[_hash(rule_id, entry["path"], entry["arch"], entry["detail"])] += 1
    return counts


def apply_baseline(reports: list[Report], baseline: Counter[str]) -> list[Report]:
    """``reports`` without the findings the baseline excuses (each entry excuses one)."""
    left = Counter(baseline)
    out = []
    for report in reports:
        kept = []
        for finding in report.findings:
            fp = fingerprint(finding, report.input_name)
            if left[fp] > 0:
                left[fp] -= 1
            else:
                kept.append(finding)
        excused = len(report.findings) - len(kept)
        out.append(replace(report, findings=tuple(kept), baselined=report.baselined + excused))
    return out
