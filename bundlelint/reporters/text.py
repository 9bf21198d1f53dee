"""Terminal output with rich: findings grouped by file, a fix under each, a summary line."""

from __future__ import annotations

from itertools import groupby
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from bundlelint.engine import Report
from bundlelint.findings import Severity
from bundlelint.reporters.summary import summary_line
from bundlelint.rules import Registry

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def render_text(reports: list[Report], registry: Registry, out: TextIO, *, color: bool) -> None:
    console = Console(file=out, force_terminal=color, no_color=not color, highlight=False,
                      soft_wrap=True, emoji=False)
    findings = [f for r in reports for f in r.findings]
    for path, group in groupby(findings, key=lambda f: f.location.path):
        console.print(f"[bold underline]{escape(path)}[/]")
        for f in group:
            rule = registry.get(f.rule_id)
            slug = f" {rule.meta.slug}" if rule else ""
            where = f"[{f.location.arch}] " if f.location.arch else ""
            if f.location.offset is not None:
                where += f"@{f.location.offset:#x} "
            console.print(
                f"  [{STYLE[f.severity]}]{f.severity.value:<7}[/] [bold]{f.rule_id}[/]"
                f"[dim]{slug}[/] {escape(where)}{escape(f.message)}"
            )
            if f.fix is not None and f.fix.command:
                console.print(f"    [dim]fix:[/] [green]{escape(f.fix.command)}[/]")
        console.print()
    style = "bold" if findings else "bold green"
    console.print(f"[{style}]{escape(summary_line(reports))}[/]")
