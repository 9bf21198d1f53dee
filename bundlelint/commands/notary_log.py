"""``bundlelint notary-log LOG.json [--bundle PATH]``: Apple's verdict as bundlelint findings.

Exit status: 1 exactly when the report shows an error finding (an Invalid or Rejected log always
has one: an issue, or BL791 for the job itself), 0 otherwise (an Accepted log, Apple's warnings),
2 if the log cannot be read or is not a notary log, 3 if a rule crashed while linting
``--bundle``. The local lint only chooses among the rules an ambiguous message fits and adds the
comparison; the exit status follows Apple's verdict.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bundlelint.commands import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_USAGE,
    open_or_report,
)
from bundlelint.commands.check import use_color
from bundlelint.display import printable
from bundlelint.errors import ParseError
from bundlelint.parsers.notary import MAX_LOG_BYTES, NotaryLog, read_notary_log
from bundlelint.rules import Registry

NAME = "notary-log"
HELP = "map a notarytool log (or submit/info JSON) to bundlelint rules"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("log", metavar="LOG.json",
                        help="`xcrun notarytool log <id>` output; - reads standard input")
    parser.add_argument("--bundle", metavar="PATH",
                        help="also lint this .app (or .zip) and compare with Apple's verdict")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--no-color", action="store_true", help="never colour the text output")


def _read_log(name: str) -> NotaryLog:
    """The log named on the command line; its size is checked before a byte is read."""
    if name == "-":
        return read_notary_log(sys.stdin.buffer, "-")
    path = Path(name)
    if path.is_file() and path.stat().st_size > MAX_LOG_BYTES:
        raise ParseError("notary log JSON", name, None,
                         f"{path.stat().st_size} bytes is over the {MAX_LOG_BYTES} byte limit "
                         "(refused unread)")
    with open(path, "rb") as fh:
        return read_notary_log(fh, name)


def run(args: argparse.Namespace, registry: Registry) -> int:
    from bundlelint.analysis.notary import choose_by_evidence, compare, map_log
    from bundlelint.engine import Selection, run_rules
    from bundlelint.reporters.notary_log import (
        NotaryResult,
        render_notary_json,
        render_notary_text,
    )

    try:
        log = _read_log(args.log)
    except ParseError as err:
        print(f"bundlelint: error: {printable(str(err))}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        reason = f"cannot read {args.log}: {exc.strerror or exc}"
        print(f"bundlelint: error: {printable(reason)}", file=sys.stderr)
        return EXIT_USAGE
    mapping = map_log(log, (rule.meta for rule in registry))
    result = NotaryResult(mapping)
    if args.bundle is not None:
        bundle = open_or_report(args.bundle)
        if bundle is None:
            return EXIT_USAGE
        local = run_rules(bundle, registry, Selection())
        mapping = choose_by_evidence(mapping, local.findings, (rule.meta for rule in registry))
        result = NotaryResult(mapping, local, compare(mapping, local.findings))
    render = render_notary_json if args.format == "json" else render_notary_text
    render(result, registry, sys.stdout, color=use_color(args.no_color))
    if result.local is not None and result.local.has_internal_error:
        return EXIT_INTERNAL
    if mapping.has_errors:
        return EXIT_FINDINGS
    return EXIT_CLEAN
