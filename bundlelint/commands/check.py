"""``bundlelint [check] PATH...``: lint bundles and Mach-O files.

A thin layer over ``bundlelint.pipeline`` (the Python API's pipeline): this module parses the
flags, finds the configuration file, prints errors and renders the reports.

Settings come from the configuration file (``bundlelint.config``), then these flags:
``--select`` and ``--fail-on`` replace the configured value, ``--ignore`` adds to it, and the
expectation flags replace theirs. ``--isolated`` ignores configuration files.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from bundlelint.commands import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE
from bundlelint.display import printable
from bundlelint.identifiers import bundle_identifier_problem, team_id_problem
from bundlelint.reporters import FORMATS
from bundlelint.rules import Registry

NAME = "check"
HELP = "lint bundles or Mach-O files (the default command)"


def codes(text: str) -> tuple[str, ...]:
    """Parse a comma-separated list of rule codes (IDs, prefixes or slugs)."""
    return tuple(c.strip().upper() for c in text.split(",") if c.strip())


def selected_codes(text: str) -> tuple[str, ...]:
    """``--select``: like ``codes``, but an empty list is a usage error (it would select no
    rule, and silently meaning ALL instead hid typos such as ``--select "$UNSET"``)."""
    found = codes(text)
    if not found:
        raise argparse.ArgumentTypeError("names no rule code (use ALL for every rule)")
    return found


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help=".app bundle or Mach-O file")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="report format (default: text)")
    parser.add_argument("--output", "-o", metavar="FILE", type=Path,
                        help="write the report to FILE and print only the summary line")
    parser.add_argument("--select", type=selected_codes, default=None,
                        help="comma-separated rule codes or prefixes to enable (default: ALL); "
                        "replaces the configured select")
    parser.add_argument("--ignore", type=codes, default=(),
                        help="comma-separated rule codes or prefixes to disable; adds to the "
                        "configured ignore")
    parser.add_argument("--fail-on", choices=("error", "warning", "info"), default=None,
                        help="lowest severity that makes the exit status 1 (default: error)")
    parser.add_argument("--no-color", action="store_true", help="never colour the text output")
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="print only the summary line (nothing when clean), no progress")
    parser.add_argument("--config", metavar="FILE", type=Path,
                        help="read settings from FILE instead of searching for bundlelint.toml "
                        "or pyproject.toml from the current directory upward")
    parser.add_argument("--isolated", action="store_true",
                        help="ignore configuration files")
    parser.add_argument("--baseline", metavar="FILE", type=Path,
                        help="report only findings not recorded in FILE")
    parser.add_argument("--write-baseline", metavar="FILE", type=Path,
                        help="record the current findings in FILE and exit 0")
    parser.add_argument("--expected-team-id", metavar="TEAMID", type=_checked(team_id_problem),
                        help="every Developer ID signature must carry this Team ID (BL240)")
    parser.add_argument("--bundle-identifier", metavar="ID",
                        type=_checked(bundle_identifier_problem),
                        help="the app's CFBundleIdentifier must be ID (BL410)")
    parser.add_argument("--trust-anchor", metavar="FILE", type=Path, action="append",
                        help="also trust the certificate in FILE (PEM or DER) as a root; for "
                        "test fixtures signed by your own CA, it never makes anything count as "
                        "Apple-issued (repeatable; also BUNDLELINT_EXTRA_TRUST_ANCHOR)")
    parser.add_argument("--max-file-size", metavar="BYTES", type=_size,
                        help="skip parsing files larger than BYTES (suffixes K, M, G), with a "
                        "finding instead")
    parser.add_argument("--jobs", "-j", metavar="N", type=_jobs, default=None,
                        help="hash with N worker processes (default: one per CPU; 1: no "
                        "workers, everything in this process)")


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("B")
    scale = units.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in units else text
    if not number.isdigit() or int(number) <= 0:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(number) * scale


def _checked(problem: Callable[[object], str | None]) -> Callable[[str], str]:
    """An argparse type that refuses what the configuration file refuses (same validator)."""
    def check(text: str) -> str:
        reason = problem(text)
        if reason is not None:
            raise argparse.ArgumentTypeError(reason)
        return text
    return check


def _jobs(text: str) -> int:
    if not text.strip().isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"not a positive number of jobs: {text!r}")
    return int(text)


def use_color(no_color_flag: bool) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (no-color.org)."""
    if no_color_flag or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def run(args: argparse.Namespace, registry: Registry) -> int:
    from bundlelint import pipeline
    from bundlelint.config import Config, discover, load_config
    from bundlelint.reporters import render
    from bundlelint.reporters.summary import summary_line
    from bundlelint.trust import anchors_from

    if args.isolated:
        config = Config()
    elif args.config is not None:
        config = load_config(args.config, registry)
    else:
        config = discover(Path.cwd(), registry)
    selection, options = pipeline.settings(
        registry, config=config, select=args.select, ignore=args.ignore, fail_on=args.fail_on,
        expected_team_id=args.expected_team_id, bundle_identifier=args.bundle_identifier,
        trust_anchors=anchors_from(args.trust_anchor), max_file_size=args.max_file_size,
        jobs=args.jobs)
    baseline = None
    if args.baseline is not None and args.write_baseline is None:
        from bundlelint.baseline import load_baseline

        baseline = load_baseline(args.baseline, registry)
    result = pipeline.run(args.paths, registry, selection, options, baseline=baseline,
                          progress_bars=not args.quiet, with_tree=args.format == "html")
    for problem in result.problems:
        print(f"bundlelint: error: {printable(f'cannot read {problem.given}: {problem.reason}')}",
              file=sys.stderr)
    reports = list(result.reports)
    if args.write_baseline is not None:
        from bundlelint.baseline import write_baseline

        count = write_baseline(reports, args.write_baseline)
        print(f"bundlelint: recorded {count} finding{'s' if count != 1 else ''} in "
              f"{args.write_baseline}", file=sys.stderr)
        # Recording findings is a success: only a crash or an unreadable input fails it.
        return EXIT_CLEAN if result.exit_status == EXIT_FINDINGS else result.exit_status
    excused = sum(r.baselined for r in reports)
    if excused and args.format != "text" and args.output is None:  # else: in the summary line
        print(f"bundlelint: the baseline {printable(str(args.baseline))} excused {excused} "
              f"finding{'s' if excused != 1 else ''}", file=sys.stderr)

    has_findings = bool(result.findings)
    # --quiet trims the text report to its summary line; a machine format is printed whole.
    quiet_text = args.quiet and args.format == "text"
    problems = list(result.problems)
    if not reports and args.format in ("text", "github"):
        pass  # nothing was read: the error lines on stderr are the whole story
    elif args.output is not None:
        try:
            with args.output.open("w", encoding="utf-8") as fh:
                render(args.format, reports, registry, fh, color=False, problems=problems)
        except OSError as exc:
            print(f"bundlelint: error: "
                  f"{printable(f'cannot write {args.output}: {exc.strerror or exc}')}",
                  file=sys.stderr)
            return EXIT_USAGE
        if reports and (has_findings or not args.quiet):
            print(summary_line(reports))
    elif quiet_text:
        if has_findings:
            print(summary_line(reports))
    else:
        render(args.format, reports, registry, sys.stdout, color=use_color(args.no_color),
               problems=problems)
    return result.exit_status
