"""``bundlelint explain RULE_ID``: a rule's documentation, from its metadata."""

from __future__ import annotations

import argparse
import sys

from bundlelint.commands import EXIT_CLEAN
from bundlelint.errors import UsageError
from bundlelint.rules import Registry

NAME = "explain"
HELP = "show a rule's documentation"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rule_id", metavar="RULE_ID",
                        help="a rule ID (BL202) or name (adhoc-signature)")


def run(args: argparse.Namespace, registry: Registry) -> int:
    from bundlelint.reporters.rules_doc import explain_text
    from bundlelint.reporters.terminal import make_console, print_document

    rule = registry.get(args.rule_id)  # an ID, an old ID or the slug findings print
    if rule is None:
        raise UsageError(f"unknown rule {args.rule_id!r} (see `bundlelint rules`)")
    print_document(make_console(sys.stdout, color=False), explain_text(rule.meta))
    return EXIT_CLEAN
