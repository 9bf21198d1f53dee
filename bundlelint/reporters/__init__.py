"""Reporters render findings plus the rule registry, nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TextIO

from bundlelint.engine import Report
from bundlelint.reporters.summary import InputProblem
from bundlelint.rules import Registry

FORMATS = ("text", "json", "sarif", "github", "html")


class Reporter(Protocol):
    def __call__(self, reports: list[Report], registry: Registry, out: TextIO, *,
                 color: bool) -> None: ...


def get_reporter(name: str) -> Reporter:
    if name == "json":
        from bundlelint.reporters.json_report import render_json

        return render_json
    if name == "text":
        from bundlelint.reporters.text import render_text

        return render_text
    if name == "sarif":
        from bundlelint.reporters.sarif import render_sarif

        return render_sarif
    if name == "github":
        from bundlelint.reporters.github import render_github

        return render_github
    if name == "html":
        from bundlelint.reporters.html import render_html

        return render_html
    raise KeyError(name)


def render(name: str, reports: list[Report], registry: Registry, out: TextIO, *, color: bool,
           problems: Sequence[InputProblem] = ()) -> None:
    """Render in format ``name``. Unreadable inputs (``problems``) are part of the SARIF and
    JSON documents; the other formats leave them to the error lines on stderr."""
    if name == "sarif":
        from bundlelint.reporters.sarif import render_sarif

        render_sarif(reports, registry, out, color=color, problems=problems)
        return
    if name == "json":
        from bundlelint.reporters.json_report import render_json

        render_json(reports, registry, out, color=color, problems=problems)
        return
    get_reporter(name)(reports, registry, out, color=color)
