"""Run printed shell text under bash with the macOS tools replaced by recording stubs.

The oracle for "every command we print stays inert shell": the text runs under ``bash`` with a
PATH holding only stubs (each writes its argv, NUL-separated, to a log and does nothing else)
plus a real ``touch``, so an injected ``$(touch PWNED)`` would really create ``PWNED``. Any other
command name fails with "command not found" on stderr, which the checks treat as a failure.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Every program a fix command or the plan may name.
STUBBED_TOOLS = ("codesign", "install_name_tool", "plutil", "ditto", "xcrun", "lipo", "spctl",
                 "vtool", "chmod", "rm", "mv", "ln", "file", "go", "make", "unzip", "zip", "mktemp",
                 "realpath", "cc", "clang", "ld", "cp", "mkdir", "productsign")
#: Attacker text: command substitution, backticks, separators, quotes, newlines, a heredoc
#: terminator, a leading dash, a terminal escape, globs, a trailing backslash, non-UTF-8.
HOSTILE = (
    "$(touch PWNED)",
    "`touch PWNED`",
    "a;touch PWNED;b",
    "it's \"quoted\" 'twice'",
    "line\ntouch PWNED\n",
    "x\nEOF\ntouch PWNED\nEOF\n",
    "-rf",
    "\x1b]0;title\x07\x1b[2J",
    "$'\\n' && touch PWNED",
    "tail\\",
    "'; touch PWNED; '",
    "*{a,b}?~",
    "\udcff\u202e|touch PWNED&",
)
_STUB = """#!/bin/bash
{ printf '%s\\0' "$#" "${0##*/}" "$@"
  for v in $STUB_ENV_NAMES; do printf '%s\\0' "$v=${!v-}"; done
  printf '\\0'; } >> "$STUB_LOG"
"""


@dataclass
class Run:
    calls: list[list[str]]  # argv[0] is the tool's name; then its arguments
    environment: list[list[str]]  # per call, NAME=value for the watched variables
    stderr: str
    returncode: int
    workdir: Path

    @property
    def arguments(self) -> list[str]:
        return [arg for call in self.calls for arg in call[1:]]

    def assert_inert(self) -> None:
        """Nothing but the stubs ran: no PWNED file, no unknown command, exit 0."""
        assert not list(self.workdir.rglob("PWNED")), "an injected command ran"
        assert self.stderr == "", self.stderr
        assert self.returncode == 0


def run_under_bash(script: str, tmp: Path, env_names: tuple[str, ...] = ()) -> Run:
    """Execute ``script`` (UTF-8 text, surrogate escapes as their bytes) with stubbed tools in
    a fresh working directory under ``tmp``; return what the stubs recorded."""
    bindir = tmp / "stub-bin"
    if not bindir.is_dir():
        bindir.mkdir()
        for tool in STUBBED_TOOLS:
            (bindir / tool).write_text(_STUB)
            (bindir / tool).chmod(0o755)
        os.symlink("/usr/bin/touch", bindir / "touch")  # real: so injection would show
    workdir = tmp / f"run-{len(list(tmp.glob('run-*')))}"
    workdir.mkdir()
    log = tmp / f"{workdir.name}.log"
    log.write_bytes(b"")
    script_file = tmp / f"{workdir.name}.sh"
    script_file.write_bytes(script.encode("utf-8", "surrogateescape"))
    done = subprocess.run(
        ["/bin/bash", "--noprofile", "--norc", str(script_file)], cwd=workdir,
        env={"PATH": str(bindir), "STUB_LOG": str(log), "STUB_ENV_NAMES": " ".join(env_names),
             "LC_ALL": "C"},
        capture_output=True, timeout=60, check=False)
    calls, environment = _parse_log(log.read_bytes(), len(env_names))
    return Run(calls, environment, done.stderr.decode("utf-8", "surrogateescape"),
               done.returncode, workdir)


def _parse_log(data: bytes, env_count: int) -> tuple[list[list[str]], list[list[str]]]:
    fields = [f.decode("utf-8", "surrogateescape") for f in data.split(b"\0")]
    calls: list[list[str]] = []
    environment: list[list[str]] = []
    i = 0
    while i < len(fields) - 1:
        argc = int(fields[i])
        calls.append(fields[i + 1 : i + 2 + argc])
        i += 2 + argc
        environment.append(fields[i : i + env_count])
        i += env_count
        assert fields[i] == "", "stub log out of step"
        i += 1
    return calls, environment
