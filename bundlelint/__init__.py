"""bundlelint: find macOS notarization problems before Apple does, on any OS.

The Python API (documented in the README)::

    import bundlelint

    report = bundlelint.lint("build/MyApp.app", ignore=["BL205"])
    for finding in report.findings:
        print(finding.rule_id, finding.severity.value, finding.path, finding.arch,
              finding.message, finding.fix.command if finding.fix else None)

``lint_all(paths, ...)`` lints several inputs and returns a ``LintResult``. The names below are
imported on first use, so ``import bundlelint`` (and ``bundlelint --version``) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from bundlelint.config import Config
    from bundlelint.engine import InputProblem, Report
    from bundlelint.errors import UsageError
    from bundlelint.findings import Applicability, Finding, Fix, Location, Severity
    from bundlelint.pipeline import LintResult, lint, lint_all

#: Public name -> the module that defines it.
_API = {
    "lint": "bundlelint.pipeline",
    "lint_all": "bundlelint.pipeline",
    "LintResult": "bundlelint.pipeline",
    "Report": "bundlelint.engine",
    "InputProblem": "bundlelint.engine",
    "Finding": "bundlelint.findings",
    "Fix": "bundlelint.findings",
    "Location": "bundlelint.findings",
    "Severity": "bundlelint.findings",
    "Applicability": "bundlelint.findings",
    "Config": "bundlelint.config",
    "UsageError": "bundlelint.errors",
}

__all__ = ["Applicability", "Config", "Finding", "Fix", "InputProblem", "LintResult", "Location",
           "Report", "Severity", "UsageError", "__version__", "lint", "lint_all"]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'bundlelint' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
