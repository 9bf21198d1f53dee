"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` line per finding,
so that findings show as annotations on the run and the pull request.

Escaping follows the runner's rules (actions/toolkit ``command.ts``): in the message ``%``,
CR and LF are percent-encoded; in property values ``:`` and ``,`` are too, since they separate
properties. The file is the finding's path as printed (``Demo.app/Contents/MacOS/demo``).
Before that, the untrusted parts (path, message, command) pass through ``display.printable``
like every human-facing output, so no control character (ESC, a bare CR) reaches the log and
the only line breaks are the encoded ones between message and fix.
"""

from __future__ import annotations

from typing import TextIO

from bundlelint.display import printable
from bundlelint.engine import Report
from bundlelint.findings import Finding, Severity
from bundlelint.rules import Registry

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding, registry: Registry) -> str:
    """The workflow command for one finding."""
    rule = registry.get(finding.rule_id)
    title = f"{finding.rule_id} {rule.meta.slug}" if rule else finding.rule_id
    where = f"[{finding.location.arch}] " if finding.location.arch else ""
    message = printable(f"{where}{finding.message}")
    if finding.fix is not None and finding.fix.command:
        message += f"\nfix: {printable(finding.fix.command)}"
    path = printable(finding.location.path)
    props = f"file={escape_property(path)},title={escape_property(title)}"
    return f"::{COMMAND[finding.severity]} {props}::{escape_data(message)}"


def render_github(reports: list[Report], registry: Registry, out: TextIO, *,
                  color: bool) -> None:
    for report in reports:
        for finding in report.findings:
            out.write(annotation(finding, registry) + "\n")
