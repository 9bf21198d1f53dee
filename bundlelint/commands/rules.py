"""``bundlelint rules``: list every rule, as text, JSON or the README's Markdown table."""

from __future__ import annotations

import argparse
import sys

from bundlelint.commands import EXIT_CLEAN
from bundlelint.rules import Registry

NAME = "rules"
HELP = "list every rule"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")


def run(args: argparse.Namespace, registry: Registry) -> int:
    from bundlelint.reporters.rules_doc import rules_json, rules_markdown_table, rules_text

    render = {"json": rules_json, "markdown": rules_markdown_table, "text": rules_text}
    sys.stdout.write(render[args.format](registry))
    return EXIT_CLEAN
