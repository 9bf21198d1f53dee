"""Cost of reading a zip input in place (no temporary files) vs inflating every member once.

    python benchmarks/bench_zip.py [--big-mb MB] [--small N] [--repeat N]

Builds a zip of a generated app: one large executable-like member (a Mach-O header then
``--big-mb`` MiB of compressible text, about 3:1) and ``--small`` files of 16 KiB, deflated.
Then measures, in the same run, best of N:

(1) baseline: ``zipfile`` inflating every member once (the floor for any reader that checks
    every member's real data: what the measuring pass must do);
(2) ``ZipSource(path)``: counting, span checks and the measuring pass (CRC, real ratio,
    checkpoints), i.e. everything before the walk;
(3) 200 random 4 KiB reads from the large member through checkpoints vs the same reads each
    inflating from the member's start (what a stream without checkpoints costs);
(4) peak memory (VmHWM) of a child process that lints the zip end to end, next to the same
    child that only imports bundlelint.

Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from _timing import best_of  # noqa: E402

from bundlelint.inputs import zip as zip_input  # noqa: E402
from fixtures.macho_builder import MachOSpec, build_macho  # noqa: E402

_PEAK = """
import sys
sys.argv = ["bundlelint", "--format", "json", "--output", "/dev/null", *sys.argv[1:]]
if len(sys.argv) > 5:
    import runpy
    try:
        runpy.run_module("bundlelint", run_name="__main__")
    except SystemExit:
        pass
else:
    import bundlelint.cli  # noqa: F401
with open("/proc/self/status") as fh:
    print(next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")))
"""


def build(path: Path, big_mb: int, small: int) -> bytes:
    rng = random.Random(1)
    words = [bytes(rng.choice(b"abcdefghijklmnop") for _ in range(rng.randrange(2, 9)))
             for _ in range(4000)]
    text = bytearray()
    while len(text) < big_mb * 1024 * 1024:
        text += b" ".join(rng.choices(words, k=4096))
    big = build_macho(MachOSpec()) + bytes(text[: big_mb * 1024 * 1024])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Bench.app/Contents/Info.plist", b"<plist version='1.0'><dict/></plist>")
        zf.writestr("Bench.app/Contents/MacOS/bench", big)
        for i in range(small):
            piece = bytes(text[i * 100 : i * 100 + 16384])
            zf.writestr(f"Bench.app/Contents/Resources/r{i:05d}.txt", piece)
    return big


def inflate_all(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            with zf.open(info) as fh:
                while fh.read(1 << 20):
                    pass


def peak_kib(*args: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", _PEAK, *args], capture_output=True, text=True,
                         env=env, check=True).stdout
    return int(out.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big-mb", type=int, default=128)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Bench.zip"
        big = build(path, args.big_mb, args.small)
        print(f"archive: {path.stat().st_size / 2**20:.1f} MiB, "
              f"{args.big_mb} MiB executable + {args.small} x 16 KiB files")
        base = best_of(lambda: inflate_all(path), args.repeat)
        ours = best_of(lambda: zip_input.ZipSource(path), args.repeat)
        print(f"(1) zipfile inflating every member once: {base * 1000:.0f} ms")
        print(f"(2) ZipSource (count, spans, measuring pass): {ours * 1000:.0f} ms "
              f"= {ours / base:.2f}x the baseline")
        source = zip_input.ZipSource(path)
        marks = sum(len(v) for v in source._layout.checkpoints.values())
        rng = random.Random(2)
        spots = [rng.randrange(len(big) - 4096) for _ in range(200)]

        def with_marks() -> None:
            with source.open("Contents/MacOS/bench") as fh:
                for at in spots:
                    fh.seek(at)
                    assert fh.read(4096) == big[at : at + 4096]

        def from_start() -> None:
            with zipfile.ZipFile(path) as zf:
                for at in spots[:20]:  # 20 only: each inflates up to the spot
                    with zf.open("Bench.app/Contents/MacOS/bench") as fh:
                        fh.seek(at)
                        fh.read(4096)

        marked = best_of(with_marks, args.repeat) / len(spots)
        restart = best_of(from_start, args.repeat) / 20
        print(f"(3) random 4 KiB read in the executable: {marked * 1000:.2f} ms with "
              f"{marks} checkpoints ({marks * 40} KB) vs {restart * 1000:.1f} ms inflating "
              f"from the start = {restart / marked:.0f}x faster")
        idle, linted = peak_kib(), peak_kib(str(path))
        print(f"(4) peak memory linting the zip: {linted / 1024:.0f} MiB "
              f"(importing bundlelint alone: {idle / 1024:.0f} MiB; the executable is "
              f"{len(big) / 2**20:.0f} MiB)")
        print(f"    zlib {zlib.ZLIB_RUNTIME_VERSION}")


if __name__ == "__main__":
    main()
