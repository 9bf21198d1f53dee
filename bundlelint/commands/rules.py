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
    from bundlelint.reporters.rules_doc import rules_json, rules_markdown_table

    if args.format == "text":  # wrapped to the terminal, each summary under itself
        from rich.text import Text

        from bundlelint.display import printable
        from bundlelint.reporters.rules_doc import rules_rows
        from bundlelint.reporters.terminal import make_console, print_prose, wraps

        console = make_console(sys.stdout, color=False)
        for lead, summary in rules_rows(registry):
            if wraps(console) and len(lead) > console.width // 2:  # narrow: summary below
                console.print(Text(printable(lead.rstrip())), soft_wrap=True)
                lead = " " * len("BL000  ")
            print_prose(console, Text(printable(lead)), Text(printable(summary)))
        return EXIT_CLEAN
    render = {"json": rules_json, "markdown": rules_markdown_table}
    sys.stdout.write(render[args.format](registry))
    return EXIT_CLEAN
