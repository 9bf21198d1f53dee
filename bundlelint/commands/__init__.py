"""Subcommands. Each module defines ``NAME``, ``HELP``, ``configure(parser)`` and
``run(args, registry) -> int``; ``bundlelint.cli`` lists them in ``COMMAND_MODULES``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bundlelint.bundle import Bundle
    from bundlelint.options import Options

from bundlelint.exitstatus import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INTERNAL, EXIT_USAGE

__all__ = ["EXIT_CLEAN", "EXIT_FINDINGS", "EXIT_INTERNAL", "EXIT_USAGE", "open_or_report"]


def open_or_report(path: str, options: Options | None = None) -> Bundle | None:
    """The input at ``path`` for a single-input command, or ``None`` after printing the one-line
    error every command gives when it cannot read its input (the caller exits with usage)."""
    from bundlelint.bundle import open_input
    from bundlelint.display import printable

    try:
        return open_input(Path(path), options)
    except OSError as exc:
        reason = f"cannot read {path}: {exc.strerror or exc}"
        print(f"bundlelint: error: {printable(reason)}", file=sys.stderr)
        return None
