"""Whole-process wall time: ``bundlelint`` on a ~25 MB universal binary vs bare macholib.

    python benchmarks/bench_parse.py [FILE] [--repeat N] [--functions N]

Without FILE, builds (and caches, see tests/toolchain.py) a universal file made of two Go
programs for darwin/arm64 and darwin/amd64, each ~12 MB of generated, dependency-free code.

Measured in the same run, interleaved, each repeated N times after one warm-up (medians):

(a) ``python -m bundlelint FILE --format json`` -- or, if ``bundlelint.cli`` is not importable,
    a ``python -c`` that calls ``parse_macho`` (the output says which);
(b) ``python -c "import macholib.MachO; macholib.MachO.MachO(FILE)"``;

plus two reference points: (c) our parser alone in a process, (d) ``python -c pass``.
Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PARSE_ONLY = (
    "import sys, os\n"
    "from bundlelint.parsers.macho import parse_macho\n"
    "p = sys.argv[1]\n"
    "with open(p, 'rb') as fh:\n"
    "    m = parse_macho(fh, os.path.getsize(p), p)\n"
    "print(len(m.slices))\n"
)
MACHOLIB = "import sys, macholib.MachO; macholib.MachO.MachO(sys.argv[1])"
IN_PROCESS = (
    "import os, sys, time\n"
    "t0 = time.perf_counter()\n"
    "from bundlelint.parsers.macho import parse_macho\n"
    "t1 = time.perf_counter()\n"
    "p = sys.argv[1]\n"
    "with open(p, 'rb') as fh:\n"
    "    parse_macho(fh, os.path.getsize(p), p)\n"
    "t2 = time.perf_counter()\n"
    "import macholib.MachO\n"
    "t3 = time.perf_counter()\n"
    "macholib.MachO.MachO(p)\n"
    "t4 = time.perf_counter()\n"
    "print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)\n"
)


def build_default(functions: int) -> Path:
    sys.path.insert(0, str(REPO / "tests"))
    import toolchain

    parts = [toolchain.build(toolchain.go_big_spec(arch, functions)) / "big"
             for arch in ("arm64", "amd64")]
    return toolchain.fat_file(f"bench-go-big{functions}-universal", parts)


#: Child processes may write and use bytecode caches, as an installed package does (pip
#: byte-compiles on install); an inherited PYTHONDONTWRITEBYTECODE would make every run of
#: bundlelint recompile its sources while macholib's site-packages .pyc files stay in use.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          check=False, env=CHILD_ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # 1 = findings reported; anything else is a failure
        sys.stderr.write(proc.stderr.decode(errors="replace")[-2000:])
    return elapsed, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", type=Path)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--functions", type=int, default=22000,
                    help="generated Go functions per slice when building the default file")
    args = ap.parse_args()

    path = args.file or build_default(args.functions)
    size = path.stat().st_size
    py = sys.executable
    have_cli = importlib.util.find_spec("bundlelint.cli") is not None
    if have_cli:
        label_a = "bundlelint CLI  (python -m bundlelint FILE --format json)"
        cmd_a = [py, "-m", "bundlelint", str(path), "--format", "json"]
    else:
        label_a = "parse_macho only (bundlelint.cli NOT importable; CLI not measured)"
        cmd_a = [py, "-c", PARSE_ONLY, str(path)]
    runs = {
        "a": (label_a, cmd_a),
        "b": ("macholib        (macholib.MachO.MachO(FILE))", [py, "-c", MACHOLIB, str(path)]),
        "c": ("parse_macho     (python -c, our parser only)", [py, "-c", PARSE_ONLY, str(path)]),
        "d": ("interpreter     (python -c pass)", [py, "-c", "pass"]),
    }
    times: dict[str, list[float]] = {k: [] for k in runs}
    codes: dict[str, set[int]] = {k: set() for k in runs}
    for _, argv in runs.values():  # warm-up: page cache, .pyc files
        timed(argv)
    for _ in range(args.repeat):
        for key, (_, argv) in runs.items():
            elapsed, code = timed(argv)
            times[key].append(elapsed)
            codes[key].add(code)

    print(f"file: {path} ({size / 1e6:.1f} MB)")
    print(f"python: {py}  repeats: {args.repeat} (+1 warm-up), interleaved")
    for key, (label, _) in runs.items():
        t = times[key]
        print(f"({key}) {label}: median {statistics.median(t) * 1000:7.1f} ms  "
              f"min {min(t) * 1000:7.1f} ms  max {max(t) * 1000:7.1f} ms  "
              f"exit {sorted(codes[key])}")
    splits = []
    for _ in range(args.repeat):
        out = subprocess.run([py, "-c", IN_PROCESS, str(path)], cwd=REPO, env=CHILD_ENV,
                             capture_output=True,
                             text=True, check=True).stdout
        splits.append([float(x) for x in out.split()])
    imp, parse, mimp, mparse = (statistics.median(col) * 1000 for col in zip(*splits,
                                                                                strict=True))
    print(f"in-process medians: import parsers.macho {imp:.1f} ms, parse_macho {parse:.1f} ms; "
          f"import macholib.MachO {mimp:.1f} ms (after ours), MachO(FILE) {mparse:.1f} ms")
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"ratio (a)/(b): {med['a'] / med['b']:.2f}")
    base = med["d"]
    print(f"ratio excluding interpreter start-up ((a)-(d))/((b)-(d)): "
          f"{(med['a'] - base) / max(med['b'] - base, 1e-9):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
