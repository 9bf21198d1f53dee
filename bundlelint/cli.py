"""Command line: ``bundlelint [check] PATH...``, ``bundlelint rules``, ``bundlelint explain``.

Exit status: 0 nothing at or above ``--fail-on``; 1 findings at or above it; 2 usage error or an
input that cannot be read at all; 3 internal error (a crashed rule or a bug).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bundlelint import __version__
from bundlelint.errors import RegistryError, UsageError
from bundlelint.findings import Severity

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
SUBCOMMANDS = ("check", "rules", "explain")


def _codes(text: str) -> tuple[str, ...]:
    return tuple(c.strip().upper() for c in text.split(",") if c.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bundlelint",
        description="Find macOS notarization problems in app bundles and Mach-O files, on any "
        "OS, without Apple tools.",
    )
    parser.add_argument("--version", action="version", version=f"bundlelint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="lint bundles or Mach-O files (the default command)")
    check.add_argument("paths", nargs="+", metavar="PATH", help=".app bundle or Mach-O file")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--select", type=_codes, default=("ALL",),
                       help="comma-separated rule codes or prefixes to enable (default: ALL)")
    check.add_argument("--ignore", type=_codes, default=(),
                       help="comma-separated rule codes or prefixes to disable")
    check.add_argument("--fail-on", choices=("error", "warning", "info"), default="error",
                       help="lowest severity that makes the exit status 1 (default: error)")
    check.add_argument("--no-color", action="store_true", help="never colour the text output")

    rules = sub.add_parser("rules", help="list every rule")
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    explain = sub.add_parser("explain", help="show a rule's documentation")
    explain.add_argument("rule_id", metavar="RULE_ID")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as other CLI tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_CLEAN


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # `bundlelint PATH` and `bundlelint --format json PATH` mean `bundlelint check ...`.
    if args_list and args_list[0] not in (*SUBCOMMANDS, "-h", "--help", "--version"):
        args_list.insert(0, "check")
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        from bundlelint.rules import load_registry

        registry = load_registry()
    except RegistryError as exc:
        print(f"bundlelint: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    try:
        if args.command == "rules":
            return _cmd_rules(registry, args.format)
        if args.command == "explain":
            return _cmd_explain(registry, args.rule_id)
        return _cmd_check(registry, args)
    except UsageError as exc:
        print(f"bundlelint: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _cmd_rules(registry: object, fmt: str) -> int:
    from bundlelint.reporters.rules_doc import rules_json, rules_markdown_table, rules_text
    from bundlelint.rules import Registry

    assert isinstance(registry, Registry)
    render = {"json": rules_json, "markdown": rules_markdown_table, "text": rules_text}[fmt]
    sys.stdout.write(render(registry))
    return EXIT_CLEAN


def _cmd_explain(registry: object, rule_id: str) -> int:
    from bundlelint.reporters.rules_doc import explain_text
    from bundlelint.rules import Registry

    assert isinstance(registry, Registry)
    rule = registry.get(rule_id)
    if rule is None:
        raise UsageError(f"unknown rule {rule_id!r} (see `bundlelint rules`)")
    sys.stdout.write(explain_text(rule.meta))
    return EXIT_CLEAN


def _use_color(no_color_flag: bool) -> bool:
    if no_color_flag or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _cmd_check(registry: object, args: argparse.Namespace) -> int:
    from bundlelint.bundle import open_input
    from bundlelint.engine import Report, Selection, run_rules
    from bundlelint.reporters import get_reporter
    from bundlelint.rules import Registry

    assert isinstance(registry, Registry)
    selection = Selection(select=args.select, ignore=args.ignore,
                          fail_on=Severity(args.fail_on))
    selection.validate(registry)
    reports: list[Report] = []
    unreadable = False
    for raw in args.paths:
        path = Path(raw)
        try:
            bundle = open_input(path)
        except OSError as exc:
            print(f"bundlelint: error: cannot read {raw}: {exc.strerror or exc}", file=sys.stderr)
            unreadable = True
            continue
        reports.append(run_rules(bundle, registry, selection))
    reporter = get_reporter(args.format)
    reporter(reports, registry, sys.stdout, color=_use_color(args.no_color))
    if any(r.has_internal_error for r in reports):
        return EXIT_INTERNAL
    if unreadable:
        return EXIT_USAGE
    failing = any(f.severity >= selection.fail_on for r in reports for f in r.findings)
    return EXIT_FINDINGS if failing else EXIT_CLEAN
