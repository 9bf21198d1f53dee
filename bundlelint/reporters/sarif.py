"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

``tool.driver.rules`` is generated from the registry (the same metadata as ``explain`` and the
docs pages), so every ``ruleId`` in the results is declared there. Locations are the finding
paths as bundlelint prints them (``Demo.app/Contents/MacOS/demo``): relative to the directory
that holds the scanned input, under the ``%SRCROOT%`` base; a name that is not UTF-8 is
percent-encoded byte for byte (``%FF``), as RFC 3986 does. Inputs that could not be read are
``toolExecutionNotifications`` of the invocation, not results.

GitHub code scanning needs a location with a line to show a result (it ignores ``byteOffset``,
see ossf/scorecard#1458), so every region carries ``startLine: 1`` and, where the finding has
one, the ``byteOffset`` in the file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO
from urllib.parse import quote

from bundlelint import __version__
from bundlelint.baseline import fingerprint
from bundlelint.display import json_safe, os_bytes
from bundlelint.engine import INTERNAL_ERROR_RULE, Report
from bundlelint.findings import Finding, Severity
from bundlelint.reporters.rules_doc import PROJECT_URL, evidence_to_dict, rule_doc_url
from bundlelint.reporters.summary import InputProblem
from bundlelint.rules import Registry
from bundlelint.rules.base import RuleMeta

SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
URI_BASE_ID = "%SRCROOT%"
FINGERPRINT_KEY = "bundlelintFingerprint/v1"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def rule_descriptor(meta: RuleMeta) -> dict[str, Any]:
    """A SARIF ``reportingDescriptor`` for one rule."""
    text = [f"{meta.summary}.", "", f"Why it matters: {meta.why}", "",
            f"How to fix: {meta.how_to_fix}"]
    markdown = [f"**{meta.summary}.**", "", meta.what, "", "## Why it matters", "", meta.why,
                "", "## How to fix", "", meta.how_to_fix]
    if meta.fix_command:
        text += ["", f"Fix command: {meta.fix_command}"]
        markdown += ["", "```sh", meta.fix_command, "```"]
    if meta.notary_messages:
        markdown += ["", "## Apple notary messages", ""]
        markdown += [f"- `{m}`" for m in meta.notary_messages]
    text[1:1] = ["", f"If ignored: {meta.consequence.value}."]
    markdown[1:1] = ["", f"If ignored: **{meta.consequence.value}**."]
    markdown += ["", "## Evidence", ""]
    markdown += [f"- {e.text} ({e.where})" for e in meta.evidence]
    return {
        "id": meta.id,
        "name": meta.slug,
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": meta.what},
        "help": {"text": "\n".join(text), "markdown": "\n".join(markdown)},
        "helpUri": rule_doc_url(meta.id),
        "defaultConfiguration": {"level": LEVEL[meta.severity]},
        "properties": {
            "tags": [meta.family, meta.severity.value],
            "fixApplicability": meta.fix_applicability.value,
            "consequence": meta.consequence.key,
            "consequenceText": meta.consequence.value,
            "evidence": [evidence_to_dict(e) for e in meta.evidence],
            **({"deprecatedIds": list(meta.aliases)} if meta.aliases else {}),
        },
    }


def _location(path: str, offset: int | None) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": 1}
    if offset is not None and offset >= 0:
        region["byteOffset"] = offset
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(os_bytes(path), safe="/"),
                                 "uriBaseId": URI_BASE_ID},
            "region": region,
        }
    }


def _result(finding: Finding, input_name: str, index: dict[str, int]) -> dict[str, Any]:
    text = finding.message
    if finding.fix is not None and finding.fix.command:
        text += f"\nFix: {finding.fix.command}"
    properties: dict[str, Any] = {}
    if finding.location.arch:
        properties["architecture"] = finding.location.arch
    if finding.evidence:
        properties["evidence"] = dict(finding.evidence)
    if finding.fix is not None and finding.fix.command:
        properties["fixCommand"] = finding.fix.command
        properties["fixApplicability"] = finding.fix.applicability.value
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "level": LEVEL[finding.severity],
        "message": {"text": text},
        "locations": [_location(finding.location.path, finding.location.offset)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding, input_name)},
    }
    if finding.rule_id in index:
        result["ruleIndex"] = index[finding.rule_id]
    if properties:
        result["properties"] = properties
    return result


def _notification(problem: InputProblem) -> dict[str, Any]:
    return {
        "level": "error",
        "message": {"text": f"cannot read {problem.path}: {problem.reason}"},
        "locations": [_location(problem.path, None)],
    }


def sarif_document(reports: list[Report], registry: Registry,
                   problems: Sequence[InputProblem] = ()) -> dict[str, Any]:
    rules = [rule_descriptor(r.meta) for r in registry]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [_result(f, r.input_name, index) for r in reports for f in r.findings]
    crashed = any(f.rule_id == INTERNAL_ERROR_RULE for r in reports for f in r.findings)
    invocation: dict[str, Any] = {"executionSuccessful": not problems and not crashed}
    if problems:
        invocation["toolExecutionNotifications"] = [_notification(p) for p in problems]
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "bundlelint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": PROJECT_URL,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {
                    URI_BASE_ID: {
                        "description": {
                            "text": "The directory that holds the scanned bundle or file."
                        }
                    }
                },
                "invocations": [invocation],
                "results": results,
            }
        ],
    }


def render_sarif(reports: list[Report], registry: Registry, out: TextIO, *, color: bool,
                 problems: Sequence[InputProblem] = ()) -> None:
    # As for JSON: non-UTF-8 names as \xNN (URIs percent-encode the real bytes), controls as
    # \u escapes.
    json.dump(json_safe(sarif_document(reports, registry, problems)), out, indent=2)
    out.write("\n")
