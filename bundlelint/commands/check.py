"""``bundlelint [check] PATH...``: lint bundles and Mach-O files.

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
from typing import TYPE_CHECKING

from bundlelint.commands import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INTERNAL, EXIT_USAGE
from bundlelint.display import printable
from bundlelint.findings import Severity
from bundlelint.identifiers import bundle_identifier_problem, team_id_problem
from bundlelint.reporters import FORMATS
from bundlelint.rules import Registry

if TYPE_CHECKING:
    from bundlelint.engine import Report

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
    from bundlelint import progress
    from bundlelint.analysis import hashing
    from bundlelint.baseline import apply_baseline, load_baseline, write_baseline
    from bundlelint.bundle import open_input
    from bundlelint.config import Config, discover, load_config
    from bundlelint.engine import Selection, run_rules
    from bundlelint.options import Options
    from bundlelint.reporters import render
    from bundlelint.reporters.summary import InputProblem, summary_line

    if args.isolated:
        config = Config()
    elif args.config is not None:
        config = load_config(args.config, registry)
    else:
        config = discover(Path.cwd(), registry)
    fail_on = args.fail_on or (config.fail_on.value if config.fail_on else "error")
    selection = Selection(
        select=args.select or config.select or ("ALL",),
        ignore=(*config.ignore, *args.ignore),
        severity_overrides=dict(config.severity),
        per_path_ignores=config.per_path_ignores,
        fail_on=Severity(fail_on),
    )
    selection.validate(registry)
    selection = selection.resolved(registry)
    from bundlelint.trust import anchors_from

    options = Options(
        extra_trust_anchors=anchors_from(args.trust_anchor),
        max_file_size=args.max_file_size,
        jobs=args.jobs,
        expected_team_id=args.expected_team_id or config.expected_team_id,
        expected_bundle_identifier=args.bundle_identifier or config.bundle_identifier,
        expected_entitlements=config.expected_entitlements,
        **config.archive_limits(),
    )
    baseline = load_baseline(args.baseline, registry) if args.baseline is not None else None
    progress.set_enabled(not args.quiet)

    reports: list[Report] = []
    typed: list[str] = []  # the path given for each report
    problems: list[InputProblem] = []
    hashes = any(selection.enabled(r) for r in registry if hashing.needs_hashes(r.check))
    for raw in args.paths:
        # With a seal to verify, the workers start hashing while the walk goes on.
        early = hashing.EarlyHasher.for_input(raw, options.jobs) if hashes else None
        try:
            bundle = open_input(Path(raw), options, observer=early.see if early else None)
        except OSError as exc:
            reason = str(exc.strerror or exc)
            print(f"bundlelint: error: {printable(f'cannot read {raw}: {reason}')}",
                  file=sys.stderr)
            problems.append(InputProblem(path=Path(raw).name or raw, reason=reason))
            continue
        if early is not None:
            early.adopt(bundle)
        if hashes:
            hashing.prefetch(bundle)  # the workers hash while the rules run
        reports.append(run_rules(bundle, registry, selection, options,
                                 order=lambda r: hashing.hash_stage(r.check)))
        typed.append(raw)
    hashing.shutdown()  # prefetched work no rule asked for is cancelled, not awaited

    reports = keep_apart(reports, typed)
    crashed = any(r.has_internal_error for r in reports)
    if args.write_baseline is not None:
        count = write_baseline(reports, args.write_baseline)
        print(f"bundlelint: recorded {count} finding{'s' if count != 1 else ''} in "
              f"{args.write_baseline}", file=sys.stderr)
        return EXIT_INTERNAL if crashed else EXIT_USAGE if problems else EXIT_CLEAN
    if baseline is not None:
        reports = apply_baseline(reports, baseline)
        excused = sum(r.baselined for r in reports)
        if excused and args.format != "text" and args.output is None:  # else: summary line
            print(f"bundlelint: the baseline {printable(str(args.baseline))} excused {excused} "
                  f"finding{'s' if excused != 1 else ''}", file=sys.stderr)

    has_findings = any(r.findings for r in reports)
    # --quiet trims the text report to its summary line; a machine format is printed whole.
    quiet_text = args.quiet and args.format == "text"
    if not reports and args.format in ("text", "github"):
        pass  # nothing was read: the error lines on stderr are the whole story
    elif args.output is not None:
        try:
            with args.output.open("w", encoding="utf-8") as fh:
                render(args.format, reports, registry, fh, color=False, problems=problems)
        except OSError as exc:
            print(f"bundlelint: error: cannot write {args.output}: {exc.strerror or exc}",
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

    if crashed:
        return EXIT_INTERNAL
    if problems:
        return EXIT_USAGE
    failing = any(f.severity >= selection.fail_on for r in reports for f in r.findings)
    return EXIT_FINDINGS if failing else EXIT_CLEAN


def keep_apart(reports: list[Report], typed: list[str]) -> list[Report]:
    """Reports whose inputs share a name (``Demo.app`` and a ``demo.zip`` holding it, or two
    build directories' ``Demo.app``) renamed apart, finding paths included, so that no output
    merges them: an archive's report becomes ``demo.zip/Demo.app`` (the app inside it); if
    names still collide, each is named by the path as given."""
    from collections import Counter

    named = list(reports)
    for step in ("archive", "path"):
        counts = Counter(r.input_name for r in named)
        for i, (report, raw) in enumerate(zip(named, typed, strict=True)):
            if counts[report.input_name] < 2:
                continue
            given = Path(raw)
            if step == "archive" and given.name != report.input_name:
                named[i] = _renamed(report, f"{given.name}/{report.input_name}")
            elif step == "path":
                named[i] = _renamed(report, str(given))
    return named


def _renamed(report: Report, new: str) -> Report:
    from dataclasses import replace

    old = report.input_name
    findings = tuple(
        replace(f, location=replace(f.location, path=new + f.location.path[len(old):]))
        if f.location.path == old or f.location.path.startswith(old + "/") else f
        for f in report.findings)
    return replace(report, input_name=new, findings=findings)
