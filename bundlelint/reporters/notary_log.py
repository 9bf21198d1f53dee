"""Rendering for ``bundlelint notary-log``: Apple's verdict as findings, the notarized
cdhashes, and (with ``--bundle``) a side-by-side table of Apple's issues and local findings.

The JSON form is versioned and described by ``schema/notary-log-v1.schema.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import groupby
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bundlelint import __version__
from bundlelint.analysis.notary import (
    BY_LOCAL_LINT,
    UNRECOGNISED_RULE,
    Comparison,
    MappedIssue,
    NotaryMapping,
)
from bundlelint.display import json_safe, printable
from bundlelint.engine import Report
from bundlelint.findings import Finding, Severity
from bundlelint.reporters.json_report import finding_to_dict
from bundlelint.reporters.terminal import (
    make_console,
    print_command,
    print_line,
    print_prose,
)
from bundlelint.reporters.text import finding_body, finding_lead
from bundlelint.rules import Registry

#: Bump on any incompatible change; schema/notary-log-v{N}.schema.json must match.
NOTARY_JSON_VERSION = 1


@dataclass(frozen=True)
class NotaryResult:
    """What the command found: the mapped log, and the local lint when ``--bundle`` was given."""

    mapping: NotaryMapping
    local: Report | None = None
    comparison: Comparison | None = None


def _count(findings: list[Finding], severity: Severity) -> int:
    return sum(1 for f in findings if f.severity is severity)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- text ----------------------------------------------------------------------------------
# Everything in a log is untrusted (paths, messages, the archive name): each string passes
# through ``printable`` and is assembled as ``Text``, never parsed as markup.


def _t(value: str, style: str = "") -> Text:
    return Text(printable(value), style)


def render_notary_text(result: NotaryResult, registry: Registry, out: TextIO, *,
                       color: bool) -> None:
    console = make_console(out, color=color)
    log = result.mapping.log
    findings = list(result.mapping.findings)
    status = log.status or "(no status)"
    style = "bold green" if status == "Accepted" else "bold red" if log.is_rejected else "bold"
    detail = ""
    if log.status_code is not None:
        detail += f" ({log.status_code})"
    if log.status_summary:
        detail += f": {log.status_summary}"
    kind = "log" if log.kind == "log" else "submission"
    print_prose(console, Text(f"Notary {kind} ", "bold"), _t(log.source))
    print_prose(console, Text("  status    "), Text.assemble(_t(status, style), _t(detail)))
    rows = [
        ("job id", log.job_id),
        ("archive", log.archive_filename or log.name),
        ("sha256", log.sha256),
        ("uploaded", log.upload_date or log.created_date),
        ("message", log.message),
    ]
    for label, value in rows:
        if value:
            print_prose(console, Text(f"  {label:<9} "), _t(value))
    unknown = sum(1 for m in result.mapping.issues if m.finding.rule_id == UNRECOGNISED_RULE)
    print_prose(console, Text("  issues    "), Text(
        f"{_plural(_count(findings, Severity.ERROR), 'error')}, "
        f"{_plural(_count(findings, Severity.WARNING), 'warning')}"
        + (f" ({unknown} not recognised by bundlelint)" if unknown else "")
    ))
    console.print()
    job = result.mapping.job
    if job is not None:
        print_line(console, _t(job.location.path, "bold underline"))
        print_prose(console, finding_lead(job), finding_body(job, registry))
        if job.fix is not None:
            print_prose(console, Text.assemble("    ", ("fix:", "dim"), " "), _t(job.fix.text))
        console.print()
    ordered = sorted(result.mapping.issues, key=lambda m: m.finding.sort_key())
    for path, group in groupby(ordered, key=lambda m: m.finding.location.path):
        print_line(console, _t(path, "bold underline"))
        for mapped in group:
            _print_issue(console, registry, mapped, result.comparison)
        console.print()
    _print_ticket(console, result.mapping)
    if result.comparison is not None and result.local is not None:
        _print_comparison(console, registry, result.comparison, result.local)


def _print_issue(console: Console, registry: Registry, mapped: MappedIssue,
                 comparison: Comparison | None) -> None:
    f = mapped.finding
    print_prose(console, finding_lead(f), finding_body(f, registry))
    label = Text.assemble("    ", ("apple:", "dim"), " ")
    if f.rule_id == UNRECOGNISED_RULE:
        print_prose(console, label, Text("no bundlelint rule answers this message"))
    if mapped.ambiguous:
        names = ", ".join(_rule_name(registry, rid) for rid in mapped.candidates)
        if mapped.chosen_by == BY_LOCAL_LINT:
            why = f"{f.rule_id} chosen because the local lint found it here"
        else:
            why = "Apple's message does not say which; --bundle chooses by a local lint"
        print_prose(console, Text.assemble("    ", ("could be:", "dim"), " "),
                    _t(f"{names} ({why})"))
    if mapped.issue.path and mapped.issue.path != f.location.path:
        print_command(console, Text.assemble("    ", ("apple path:", "dim"), " "),
                      _t(mapped.issue.path))
    if mapped.issue.doc_url:
        print_command(console, Text.assemble("    ", ("doc:", "dim"), " "),
                      _t(mapped.issue.doc_url))
    chosen = f.fix
    if comparison is not None:  # the local finding's fix fits this very file (a Go hint
        # only for a Go binary, the exact command)
        local = next((loc for m, loc in comparison.predicted if m is mapped), None)
        if local is not None and local.fix is not None:
            chosen = local.fix
    fix = Text.assemble("    ", ("fix:", "dim"), " ")
    if chosen is not None and chosen.command:
        print_command(console, fix, _t(chosen.command, "green"))
    elif chosen is not None:
        print_prose(console, fix, _t(chosen.text))


def _rule_name(registry: Registry, rule_id: str) -> str:
    rule = registry.get(rule_id)
    return f"{rule_id} {rule.meta.slug}" if rule is not None else rule_id


def _print_ticket(console: Console, mapping: NotaryMapping) -> None:
    ticket = mapping.ticket
    if ticket is None:
        if mapping.log.kind == "log":
            print_prose(console, Text("Notarized code: ", "bold"),
                        Text("none (the log has no ticketContents)"))
        return
    console.print(Text.assemble(("Notarized code (ticketContents):", "bold"), " ",
                                _plural(len(ticket), "item")), soft_wrap=True)
    for t in ticket:
        arch = f" [{t.item.arch}]" if t.item.arch else ""
        algo = t.item.digest_algorithm or "?"
        print_line(console, _t(f"  {t.bundle_path or t.item.path}{arch}  {algo} cdhash "
                               f"{t.item.cdhash}"))
    console.print()


def _print_comparison(console: Console, registry: Registry, comparison: Comparison,
                      local: Report) -> None:
    """Apple's verdict beside the local lint, as wide as the output (folding long cells)."""
    table = Table(title=_t(f"Apple's verdict next to bundlelint's lint of {local.input_name}"),
                  show_lines=True, expand=False)
    table.add_column("Verdict", no_wrap=True)
    table.add_column("Rule", no_wrap=True)
    table.add_column("Path [arch]", overflow="fold")
    table.add_column("Apple says", overflow="fold")
    table.add_column("bundlelint says", overflow="fold")

    def place(path: str, arch: str | None) -> Text:
        return _t(path + (f" [{arch}]" if arch else ""))

    nothing = Text("nothing", "dim")
    for mapped, found in comparison.predicted:
        f = mapped.finding
        table.add_row(Text("predicted", "green"), f.rule_id,
                      place(f.location.path, f.location.arch), _t(f.message),
                      _t(f"{found.rule_id}: {found.message}"))
    for mapped in comparison.missed:
        f = mapped.finding
        table.add_row(Text("missed", "red"), f.rule_id, place(f.location.path, f.location.arch),
                      _t(f.message), nothing)
    for found in comparison.local_only:
        table.add_row(Text("local only", "yellow"), found.rule_id,
                      place(found.location.path, found.location.arch), nothing,
                      _t(found.message))
    console.print(table)
    print_prose(console, Text(
        f"{len(comparison.predicted)} predicted, {len(comparison.missed)} missed, "
        f"{len(comparison.local_only)} local only", "bold"), _t(
        f" (bundlelint found {_plural(local.count(Severity.ERROR), 'error')} in "
        f"{local.input_name})."))


# --- JSON ----------------------------------------------------------------------------------


def _issue_to_dict(mapped: MappedIssue, registry: Registry) -> dict[str, Any]:
    i = mapped.issue
    return {
        "finding": finding_to_dict(mapped.finding, registry),
        "apple": {
            "severity": i.severity,
            "code": i.code,
            "path": i.path,
            "message": i.message,
            "doc_url": i.doc_url,
            "architecture": i.architecture,
        },
        "bundle_path": mapped.bundle_path,
        "matched_by": mapped.matched_by,
        "candidates": list(mapped.candidates),
        "chosen_by": mapped.chosen_by,
    }


def notary_document(result: NotaryResult, registry: Registry) -> dict[str, Any]:
    mapping = result.mapping
    log = mapping.log
    findings = list(mapping.findings)
    index = {id(m): n for n, m in enumerate(mapping.issues)}
    doc: dict[str, Any] = {
        "format_version": NOTARY_JSON_VERSION,
        "tool": {"name": "bundlelint", "version": __version__},
        "log": {
            "source": log.source,
            "kind": log.kind,
            "log_format_version": log.log_format_version,
            "job_id": log.job_id,
            "status": log.status,
            "status_summary": log.status_summary,
            "status_code": log.status_code,
            "archive_filename": log.archive_filename,
            "upload_date": log.upload_date,
            "sha256": log.sha256,
            "message": log.message,
            "name": log.name,
            "created_date": log.created_date,
        },
        "summary": {
            "issues": len(mapping.issues),
            "errors": _count(findings, Severity.ERROR),
            "warnings": _count(findings, Severity.WARNING),
            "unrecognised": sum(1 for f in findings if f.rule_id == UNRECOGNISED_RULE),
        },
        "job": None if mapping.job is None else finding_to_dict(mapping.job, registry),
        "issues": [_issue_to_dict(m, registry) for m in mapping.issues],
        "ticket": None if mapping.ticket is None else [
            {
                "path": t.item.path,
                "bundle_path": t.bundle_path,
                "digest_algorithm": t.item.digest_algorithm,
                "cdhash": t.item.cdhash,
                "arch": t.item.arch,
            }
            for t in mapping.ticket
        ],
        "comparison": None,
    }
    comparison, local = result.comparison, result.local
    if comparison is not None and local is not None:
        doc["comparison"] = {
            "bundle": local.input_name,
            "local_summary": {
                "errors": local.count(Severity.ERROR),
                "warnings": local.count(Severity.WARNING),
                "info": local.count(Severity.INFO),
            },
            "predicted": [
                {"issue": index[id(m)], "rule_id": m.finding.rule_id,
                 "path": m.finding.location.path, "arch": m.finding.location.arch,
                 "local": finding_to_dict(f, registry)}
                for m, f in comparison.predicted
            ],
            "missed": [
                {"issue": index[id(m)], "rule_id": m.finding.rule_id,
                 "path": m.finding.location.path, "arch": m.finding.location.arch}
                for m in comparison.missed
            ],
            "local_only": [finding_to_dict(f, registry) for f in comparison.local_only],
        }
    return doc


def render_notary_json(result: NotaryResult, registry: Registry, out: TextIO, *,
                       color: bool) -> None:
    json.dump(json_safe(notary_document(result, registry)), out, indent=2)
    out.write("\n")
