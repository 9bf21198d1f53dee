"""Versioned JSON output. The schema is committed beside this file and checked in tests."""

from __future__ import annotations

import json
from typing import Any, TextIO

from bundlelint import __version__
from bundlelint.display import json_safe
from bundlelint.engine import Report
from bundlelint.findings import Finding, Severity
from bundlelint.rules import Registry

#: Bump on any incompatible change; schema/report-v{N}.schema.json must match.
JSON_FORMAT_VERSION = 1


def finding_to_dict(finding: Finding, registry: Registry) -> dict[str, Any]:
    rule = registry.get(finding.rule_id)
    return {
        "rule_id": finding.rule_id,
        "slug": rule.meta.slug if rule else None,
        "severity": finding.severity.value,
        "path": finding.location.path,
        "arch": finding.location.arch,
        "offset": finding.location.offset,
        "message": finding.message,
        "fix": None
        if finding.fix is None
        else {
            "text": finding.fix.text,
            "command": finding.fix.command,
            "applicability": finding.fix.applicability.value,
        },
        "evidence": dict(finding.evidence),
    }


def report_document(reports: list[Report], registry: Registry) -> dict[str, Any]:
    findings = [f for r in reports for f in r.findings]
    return {
        "format_version": JSON_FORMAT_VERSION,
        "tool": {"name": "bundlelint", "version": __version__},
        "inputs": [r.input_name for r in reports],
        "summary": {
            "errors": sum(r.count(Severity.ERROR) for r in reports),
            "warnings": sum(r.count(Severity.WARNING) for r in reports),
            "info": sum(r.count(Severity.INFO) for r in reports),
        },
        "findings": [finding_to_dict(f, registry) for f in findings],
    }


def render_json(reports: list[Report], registry: Registry, out: TextIO, *, color: bool) -> None:
    # json_safe: a file name that is not UTF-8 is written \xNN (never a lone surrogate);
    # ensure_ascii (the default) writes every control character as a \u escape.
    json.dump(json_safe(report_document(reports, registry)), out, indent=2)
    out.write("\n")
