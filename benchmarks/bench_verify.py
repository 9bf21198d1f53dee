"""Throughput of code-page and resource-seal verification vs one-core hashlib SHA-256.

    python benchmarks/bench_verify.py [FILE] [--repeat N] [--bundle-mb MB]

(1) Code: full verification (every page of every CodeDirectory of every slice, special slots,
    cdhash) of FILE -- by default the real, Developer ID-signed universal sentry-cli (28.7 MB,
    fetched and sha256-checked through tests/realbins) -- against plain ``hashlib.sha256`` over
    the same signed ranges, read from the same file in the same run.
(2) Seal: ``verify_seal`` of a generated bundle (``--bundle-mb`` of resources in files of 64 KiB
    to 8 MiB, sealed by fixtures/sealer.py) against plain ``hashlib.sha256`` of the same files.

Each measurement is the best of N runs, interleaved, with a fresh ``Bundle`` every time so
nothing is served from the memo cache. Prints figures only; asserts nothing (tests never assert
timings). The target is a ratio of at least 0.8: verification should cost little more than
hashing the bytes once.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from _timing import best_of  # noqa: E402

from bundlelint.analysis.codehash import verify_code  # noqa: E402
from bundlelint.analysis.seal import sealed_bundles  # noqa: E402
from bundlelint.bundle import open_input  # noqa: E402

CHUNK = 1 << 20  # the fastest plain-hashlib chunk size measured here (vs 8 MiB)


def _hash_ranges(path: Path, ranges: list[tuple[int, int]]) -> None:
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb") as fh:
        for start, length in ranges:
            fh.seek(start)
            h = hashlib.sha256()
            left = length
            while left:
                n = fh.readinto(view[: min(CHUNK, left)])
                if not n:
                    break
                h.update(view[:n])
                left -= n


def bench_code(path: Path, repeat: int) -> None:
    bundle = open_input(path)
    entry = bundle.entries[0]
    result = verify_code(bundle, entry)
    ranges = [(sl.offset, cd.code_limit) for sl in result.slices for cd in sl.code_directories]
    total = sum(length for _, length in ranges)
    bad = sum(cd.pages.bad_pages for sl in result.slices for cd in sl.code_directories)

    def ours() -> None:
        fresh = open_input(path)
        verify_code(fresh, fresh.entries[0])

    def parse_only() -> None:
        fresh = open_input(path)
        fresh.macho(fresh.entries[0])

    t_ours = t_base = t_parse = float("inf")
    for _ in range(repeat):  # interleave so both see the same machine state
        t_ours = min(t_ours, best_of(ours, 1))
        t_base = min(t_base, best_of(lambda: _hash_ranges(path, ranges), 1))
        t_parse = min(t_parse, best_of(parse_only, 1))
    mb = total / 1e6
    print(f"code: {path.name}: {len(result.slices)} slice(s), {len(ranges)} CodeDirectories, "
          f"{mb:.1f} MB signed, {bad} bad pages")
    print(f"  verify_code (incl. Mach-O parse {t_parse * 1e3:.0f} ms): {mb / t_ours:8.0f} MB/s"
          f"  ({t_ours * 1e3:.0f} ms)")
    print(f"  hashlib.sha256, same ranges:            {mb / t_base:8.0f} MB/s"
          f"  ({t_base * 1e3:.0f} ms)")
    print(f"  ratio: {t_base / t_ours:.2f}x of one-core hashlib")


def make_bundle(root: Path, megabytes: int) -> Path:
    from appbuilder import make_app

    from fixtures.sealer import seal_bundle

    rng = random.Random(1)
    files: dict[str, bytes] = {}
    left = megabytes << 20
    i = 0
    while left > 0:
        size = min(left, rng.choice([64 << 10, 256 << 10, 1 << 20, 8 << 20]))
        files[f"Contents/Resources/d{i % 17}/f{i}.bin"] = os.urandom(size)
        left -= size
        i += 1
    app = make_app(root, name="Big.app", files=files)
    seal_bundle(app)
    return app


def bench_seal(megabytes: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_bundle(Path(tmp), megabytes)
        paths = [Path(d) / f for d, _, fs in os.walk(app / "Contents/Resources") for f in fs]
        total = sum(p.stat().st_size for p in paths)

        def ours() -> None:
            [seal] = [s for s in sealed_bundles(open_input(app)) if s.bundle_dir.relpath == ""]
            assert not seal.issues and seal.error is None

        def base() -> None:
            for p in paths:
                _hash_ranges(p, [(0, p.stat().st_size)])

        t_ours = t_base = float("inf")
        for _ in range(repeat):
            t_ours = min(t_ours, best_of(ours, 1))
            t_base = min(t_base, best_of(base, 1))
        mb = total / 1e6
        print(f"seal: {len(paths)} files, {mb:.1f} MB sealed")
        print(f"  verify_seal (incl. bundle walk): {mb / t_ours:8.0f} MB/s"
              f"  ({t_ours * 1e3:.0f} ms)")
        print(f"  hashlib.sha256, same files:      {mb / t_base:8.0f} MB/s"
              f"  ({t_base * 1e3:.0f} ms)")
        print(f"  ratio: {t_base / t_ours:.2f}x of one-core hashlib")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--bundle-mb", type=int, default=200)
    args = parser.parse_args()
    if args.file is None:
        from realbins import fetch

        args.file = fetch("sentry-cli-darwin-universal")
    bench_code(args.file, args.repeat)
    bench_seal(args.bundle_mb, args.repeat)


if __name__ == "__main__":
    main()
