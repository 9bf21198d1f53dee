"""The rich console every human-facing output prints through, and its two kinds of line.

Prose (messages, rule documentation, summaries) wraps to the terminal: the width is
``COLUMNS`` when set, else the terminal's, and a continuation line is indented under the
first line's text. When neither is known (output piped to a file or another program, no
``COLUMNS``) nothing wraps, so that one finding stays one line for ``grep``. Commands
(fix commands, paths) never wrap: a command broken over two lines no longer pastes.

Everything printed is a ``rich.text.Text`` built from parts, never markup: untrusted strings
(file names, plist values) are escaped with :func:`bundlelint.display.printable` and cannot
style the output or plant links (``[link=...]`` prints as it is).
"""

from __future__ import annotations

import os
import shutil
from typing import TextIO

from rich.console import Console
from rich.text import Text

from bundlelint.display import line_safe, printable

#: Layout width for tables when the output's width is unknown (they cannot stay unwrapped).
UNKNOWN_WIDTH_TABLE = 160


def output_width(out: TextIO) -> int | None:
    """The width to wrap ``out`` to: ``COLUMNS``, else the terminal's, else None (unknown)."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        is_tty = out.isatty()
    except (AttributeError, ValueError):
        is_tty = False
    return shutil.get_terminal_size().columns if is_tty else None


def make_console(out: TextIO, *, color: bool) -> Console:
    """A console on ``out`` with no markup, emoji or highlighting, at the output's width."""
    width = output_width(out)
    return Console(file=out, force_terminal=color, no_color=not color, highlight=False,
                   markup=False, emoji=False, soft_wrap=width is None,
                   width=width or UNKNOWN_WIDTH_TABLE)


def wraps(console: Console) -> bool:
    """Whether prose printed on ``console`` wraps (its width is known)."""
    return not console.soft_wrap


def print_line(console: Console, line: Text) -> None:
    """One line as it is (a path heading), never wrapped, never a workflow command."""
    console.print(safe_line(line), soft_wrap=True)


def print_prose(console: Console, lead: Text, body: Text) -> None:
    """``lead`` then ``body`` wrapped to the console, continuation lines indented under the
    start of ``body``. A word longer than the room left folds rather than overflows."""
    if not wraps(console):
        console.print(safe_line(Text.assemble(lead, body)), soft_wrap=True)
        return
    indent = lead.cell_len
    room = max(console.width - indent, 20)
    lines = body.wrap(console, room, overflow="fold") if body else [Text()]
    for n, line in enumerate(lines):
        line.rstrip()
        prefix = lead if n == 0 else Text(" " * indent)
        console.print(safe_line(Text.assemble(prefix, line)), soft_wrap=True)


def safe_line(line: Text) -> Text:
    """``line`` (escaped text) with ``display.line_safe`` applied, styles kept: a line that
    starts with untrusted text, or that wrapping made start with it, is never a workflow
    command."""
    plain = line.plain
    fixed = line_safe(plain)
    if fixed == plain:
        return line
    cut = len(plain) - len(plain.lstrip())
    return Text.assemble(line[:cut], "\\x3a", line[cut + 1:])


def print_command(console: Console, lead: Text, command: Text) -> None:
    """``lead`` and a command on one line, never wrapped or cropped, however wide."""
    console.print(safe_line(Text.assemble(lead, command)), soft_wrap=True)


def print_document(console: Console, text: str) -> None:
    """A plain-text document (``explain``) wrapped line by line: each line's indentation (and
    a ``- `` bullet) becomes the indent of its continuation lines. A ``$ command`` line, and a
    line that is one unbreakable word (a URL), stay whole. Escaped like any other output: a
    plug-in's metadata is text bundlelint did not write."""
    for line in text.removesuffix("\n").split("\n"):
        raw = printable(line)
        content = raw.lstrip(" ")
        lead = raw[: len(raw) - len(content)]
        if content.startswith("- "):
            lead, content = lead + "- ", content[2:]
        if content.startswith("$ ") or " " not in content.strip():
            print_command(console, Text(lead), Text(content))
        else:
            print_prose(console, Text(lead), Text(content))
