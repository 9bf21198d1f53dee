"""Whole-process start-up: ``bundlelint --version`` and a lint of the demo bundle against
``python -c pass``, measured in the same run.

    python benchmarks/bench_startup.py [--repeat N]

Each command runs N times (default 21), interleaved, after one warm-up; medians are printed,
with each command's cost over the bare interpreter and its ratio to it. The commands are run
as ``python -m bundlelint`` with this interpreter, in the repository's directory (so the demo
lint also finds and reads its ``pyproject.toml``, as a user's lint would), with bytecode caches
allowed as in an installed package. Also prints how many modules each command imports and
whether any of the heavy dependencies (rich, cryptography, asn1crypto, macholib) is among them.
Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO = "fixtures/demo/Demo.app"
HEAVY = ("rich", "cryptography", "asn1crypto", "macholib")

#: Child processes may write and use bytecode caches, as an installed package does (pip
#: byte-compiles on install); an inherited PYTHONDONTWRITEBYTECODE would make every run
#: recompile bundlelint.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "bundlelint --version": [sys.executable, "-m", "bundlelint", "--version"],
    f"bundlelint {DEMO}": [sys.executable, "-m", "bundlelint", DEMO],
}

#: Runs a command line in-process and reports the modules it imported.
IMPORTS = (
    "import contextlib, io, sys\n"
    "from bundlelint.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    main(sys.argv[1:])\n"
    "modules = sorted(sys.modules)\n"
    "import json\n"
    "print(json.dumps(modules))\n"
)


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          check=False, env=CHILD_ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # 1 = findings reported (the demo has some)
        sys.stderr.write(proc.stderr.decode(errors="replace")[-2000:])
        raise SystemExit(f"{argv} exited {proc.returncode}")
    return elapsed


def imported(args: list[str]) -> list[str]:
    out = subprocess.run([sys.executable, "-c", IMPORTS, *args], cwd=REPO, capture_output=True,
                         text=True, check=True, env=CHILD_ENV).stdout
    names: list[str] = json.loads(out)
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()

    for argv in COMMANDS.values():  # warm-up: bytecode caches, page cache
        timed(argv)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, argv in COMMANDS.items():
            times[name].append(timed(argv))
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    base = medians["python -c pass"]
    print(f"whole-process wall time, median of {args.repeat} interleaved runs "
          f"(Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    for name, ms in medians.items():
        extra = "" if name == "python -c pass" else (
            f"  (+{ms - base:6.1f} ms over python -c pass, {ms / base:4.2f}x)")
        print(f"  {name:<44} {ms:7.1f} ms{extra}")

    print("modules imported (all / bundlelint's / heavy dependencies among them)")
    for label, cli_args in (("--version", ["--version"]), (DEMO, [DEMO])):
        names = imported(cli_args)
        ours = [n for n in names if n.split(".")[0] == "bundlelint"]
        heavy = sorted({n.split(".")[0] for n in names} & set(HEAVY))
        print(f"  bundlelint {label:<33} {len(names):4d} / {len(ours):3d} / "
              f"{', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
