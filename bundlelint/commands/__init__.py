"""Subcommands. Each module defines ``NAME``, ``HELP``, ``configure(parser)`` and
``run(args, registry) -> int``; ``bundlelint.cli`` lists them in ``COMMAND_MODULES``."""

from __future__ import annotations

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
