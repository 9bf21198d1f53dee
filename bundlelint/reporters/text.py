"""Terminal output with rich: findings grouped by file, a fix under each, a summary line.

Untrusted strings (paths, messages built from file names and plist values, fix commands)
are escaped with ``display.printable`` and assembled as ``Text``, never parsed as markup
(see ``reporters.terminal``). Messages wrap to the terminal; fix commands stay on one line.
"""

from __future__ import annotations

from itertools import groupby
from typing import TextIO

from rich.text import Text

from bundlelint.display import printable
from bundlelint.engine import Report
from bundlelint.findings import Finding, Severity
from bundlelint.reporters.summary import summary_line
from bundlelint.reporters.terminal import make_console, print_command, print_line, print_prose
from bundlelint.rules import Registry

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def finding_lead(finding: Finding) -> Text:
    """``  error   BL201 ``: the start of a finding's line, before its slug and message."""
    return Text.assemble("  ", (f"{finding.severity.value:<7}", STYLE[finding.severity]), " ",
                         (finding.rule_id, "bold"), " ")


def finding_body(finding: Finding, registry: Registry) -> Text:
    """The slug, ``[arch] @offset`` and the message (escaped), which wrap together."""
    rule = registry.get(finding.rule_id)
    where = f"[{finding.location.arch}] " if finding.location.arch else ""
    if finding.location.offset is not None:
        where += f"@{finding.location.offset:#x} "
    body = Text()
    if rule:
        body.append(rule.meta.slug, "dim")
        body.append(" ")
    body.append(printable(where + finding.message))
    return body


def render_text(reports: list[Report], registry: Registry, out: TextIO, *, color: bool) -> None:
    console = make_console(out, color=color)
    findings = [f for r in reports for f in r.findings]
    for path, group in groupby(findings, key=lambda f: f.location.path):
        print_line(console, Text(printable(path), "bold underline"))
        for f in group:
            print_prose(console, finding_lead(f), finding_body(f, registry))
            if f.fix is not None and f.fix.command:
                print_command(console, Text.assemble("    ", ("fix:", "dim"), " "),
                              Text(printable(f.fix.command), "green"))
        console.print()
    style = "bold" if findings else "bold green"
    print_prose(console, Text(), Text(summary_line(reports), style))
