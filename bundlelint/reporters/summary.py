"""The one-line summary printed beside a report written elsewhere (``--output``, ``--quiet``),
and the unreadable-input record that machine formats carry."""

from __future__ import annotations

from bundlelint.display import printable
from bundlelint.engine import InputProblem, Report
from bundlelint.findings import Severity

__all__ = ["InputProblem", "summary_line"]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_line(reports: list[Report]) -> str:
    """The text reporter's last line, without colour: counts by severity, files, inputs
    (whose names are escaped: they come from the input)."""
    findings = [f for r in reports for f in r.findings]
    names = printable(", ".join(r.input_name for r in reports))
    baselined = sum(r.baselined for r in reports)
    excused = f"; {_plural(baselined, 'finding')} excused by the baseline" if baselined else ""
    if not findings:
        return f"No problems found in {names}{excused}."
    errors = sum(r.count(Severity.ERROR) for r in reports)
    warnings = sum(r.count(Severity.WARNING) for r in reports)
    infos = sum(r.count(Severity.INFO) for r in reports)
    files = len({f.location.path for f in findings})
    return (f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}, {infos} info in "
            f"{_plural(files, 'file')} ({names}){excused}. Run `bundlelint explain RULE` for "
            "details.")
