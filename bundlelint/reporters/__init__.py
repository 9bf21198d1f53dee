"""Reporters render findings plus the rule registry, nothing else."""

from __future__ import annotations

from typing import Protocol, TextIO

from bundlelint.engine import Report
from bundlelint.rules import Registry

FORMATS = ("text", "json")


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
    raise KeyError(name)
