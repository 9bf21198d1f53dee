"""``bundlelint [check] PATH...``: lint bundles and Mach-O files."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bundlelint.commands import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INTERNAL, EXIT_USAGE
from bundlelint.findings import Severity
from bundlelint.rules import Registry

NAME = "check"
HELP = "lint bundles or Mach-O files (the default command)"


def codes(text: str) -> tuple[str, ...]:
    """Parse a comma-separated list of rule codes."""
    return tuple(c.strip().upper() for c in text.split(",") if c.strip())


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help=".app bundle or Mach-O file")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--select", type=codes, default=("ALL",),
                        help="comma-separated rule codes or prefixes to enable (default: ALL)")
    parser.add_argument("--ignore", type=codes, default=(),
                        help="comma-separated rule codes or prefixes to disable")
    parser.add_argument("--fail-on", choices=("error", "warning", "info"), default="error",
                        help="lowest severity that makes the exit status 1 (default: error)")
    parser.add_argument("--no-color", action="store_true", help="never colour the text output")


def use_color(no_color_flag: bool) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (no-color.org)."""
    if no_color_flag or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def run(args: argparse.Namespace, registry: Registry) -> int:
    from bundlelint.bundle import open_input
    from bundlelint.engine import Report, Selection, run_rules
    from bundlelint.reporters import get_reporter

    selection = Selection(select=args.select, ignore=args.ignore,
                          fail_on=Severity(args.fail_on))
    selection.validate(registry)
    reports: list[Report] = []
    unreadable = False
    for raw in args.paths:
        try:
            bundle = open_input(Path(raw))
        except OSError as exc:
            print(f"bundlelint: error: cannot read {raw}: {exc.strerror or exc}", file=sys.stderr)
            unreadable = True
            continue
        reports.append(run_rules(bundle, registry, selection))
    reporter = get_reporter(args.format)
    reporter(reports, registry, sys.stdout, color=use_color(args.no_color))
    if any(r.has_internal_error for r in reports):
        return EXIT_INTERNAL
    if unreadable:
        return EXIT_USAGE
    failing = any(f.severity >= selection.fail_on for r in reports for f in r.findings)
    return EXIT_FINDINGS if failing else EXIT_CLEAN
