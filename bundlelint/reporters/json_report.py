"""Versioned JSON output. The schema is committed beside this file and checked in tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from bundlelint import __version__
from bundlelint.display import json_safe
from bundlelint.engine import Report
from bundlelint.findings import Finding, Severity
from bundlelint.reporters.summary import InputProblem
from bundlelint.rules import Registry

#: Bump on any incompatible change; schema/report-v{N}.schema.json must match.
JSON_FORMAT_VERSION = 1


def finding_to_dict(finding: Finding, registry: Registry) -> dict[str, Any]:
    rule = registry.get(finding.rule_id)
    return {
        "rule_id": finding.rule_id,
        "slug": rule.meta.slug if rule else None,
        "severity": finding.severity.value,
        "consequence": rule.meta.consequence.key if rule else None,
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


def report_document(reports: list[Report], registry: Registry,
                    problems: Sequence[InputProblem] = ()) -> dict[str, Any]:
    """The report. ``input_errors`` lists inputs that could not be read at all (exit status
    2): a document with any is never a clean report, whatever its counts say.
    ``summary.baselined`` (present when a baseline excused findings) counts what it hid."""
    findings = [f for r in reports for f in r.findings]
    summary = {
        "errors": sum(r.count(Severity.ERROR) for r in reports),
        "warnings": sum(r.count(Severity.WARNING) for r in reports),
        "info": sum(r.count(Severity.INFO) for r in reports),
    }
    if baselined := sum(r.baselined for r in reports):
        summary["baselined"] = baselined
    return {
        "format_version": JSON_FORMAT_VERSION,
        "tool": {"name": "bundlelint", "version": __version__},
        "inputs": [r.input_name for r in reports],
        "input_errors": [{"path": p.path, "reason": p.reason} for p in problems],
        "summary": summary,
        "findings": [finding_to_dict(f, registry) for f in findings],
    }


def render_json(reports: list[Report], registry: Registry, out: TextIO, *, color: bool,
                problems: Sequence[InputProblem] = ()) -> None:
    # json_safe: a file name that is not UTF-8 is written \xNN (never a lone surrogate);
    # ensure_ascii (the default) writes every control character as a \u escape.
    json.dump(json_safe(report_document(reports, registry, problems)), out, indent=2)
    out.write("\n")
