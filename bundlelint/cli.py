"""Command line entry point: dispatch to the subcommands in ``bundlelint.commands``.

Exit status: 0 nothing at or above ``--fail-on``; 1 findings at or above it; 2 usage error or an
input that cannot be read at all; 3 internal error (a crashed rule or a bug).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bundlelint import __version__
from bundlelint.commands import EXIT_CLEAN, EXIT_INTERNAL, EXIT_USAGE
from bundlelint.errors import RegistryError, UsageError

if TYPE_CHECKING:
    import argparse
    from types import ModuleType

#: Subcommand modules, in the order ``--help`` lists them. The first is the default.
COMMAND_MODULES = (
    "bundlelint.commands.check",
    "bundlelint.commands.rules",
    "bundlelint.commands.explain",
    "bundlelint.commands.inspect",
    "bundlelint.commands.notary_log",
    "bundlelint.commands.plan",
    "bundlelint.commands.sbom",
)


def command_name(module_name: str) -> str:
    """A subcommand's name from its module's (``notary_log`` -> ``notary-log``): known without
    importing the module, so a run imports only the command it runs."""
    return module_name.rpartition(".")[2].replace("_", "-")


def _commands(only: str | None = None) -> dict[str, ModuleType]:
    modules = [importlib.import_module(name) for name in COMMAND_MODULES
               if only is None or command_name(name) == only]
    return {m.NAME: m for m in modules}


def build_parser(commands: dict[str, ModuleType]) -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="bundlelint",
        description="Find macOS notarization problems in app bundles and Mach-O files, on any "
        "OS, without Apple tools.",
    )
    parser.add_argument("--version", action="version", version=f"bundlelint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in commands.items():
        module.configure(sub.add_parser(name, help=module.HELP))
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
    if args_list == ["--version"]:  # nothing else to import
        print(f"bundlelint {__version__}")
        return EXIT_CLEAN
    names = [command_name(m) for m in COMMAND_MODULES]
    # `bundlelint PATH` and `bundlelint --format json PATH` mean `bundlelint check ...`.
    if args_list and args_list[0] not in (*names, "-h", "--help", "--version"):
        args_list.insert(0, "check")
    # Only the command that runs is imported (all of them for the top-level help).
    commands = _commands(args_list[0] if args_list and args_list[0] in names else None)
    parser = build_parser(commands)
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
        code: int = commands[args.command].run(args, registry)
        return code
    except UsageError as exc:
        from bundlelint.display import printable

        print(f"bundlelint: error: {printable(str(exc))}", file=sys.stderr)  # may quote input
        return EXIT_USAGE
    finally:
        if "bundlelint.analysis.hashing" in sys.modules:  # a command that hashed may own a pool
            sys.modules["bundlelint.analysis.hashing"].shutdown()
