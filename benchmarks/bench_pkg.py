"""Lint of an installer package against the cost of inflating its payload once.

    python benchmarks/bench_pkg.py [--files N] [--out DIR]

Builds a package (fixtures.xar_builder) whose gzip payload holds an app with one signed
executable and N resource files (half random, half zeros), then prints, from one run on this
machine: the time to inflate the payload once with zlib (the baseline: any reader must do at
least that), the time of ``bundlelint PKG`` in a subprocess, their ratio, and the lint's peak
RSS (``os.wait4`` of the child).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def build(path: Path, files: int) -> int:
    from appbuilder import developer_id_like

    from fixtures import xar_builder as xb

    noise = os.urandom(1 << 16)
    entries = [xb.CpioSpec(".", mode=0o40755), xb.CpioSpec("./Big.app", mode=0o40755),
               xb.CpioSpec("./Big.app/Contents/MacOS/app", developer_id_like(), mode=0o100755)]
    for i in range(files):
        body = noise[: 40_000 + (i % 25) * 1000] + bytes(40_000)
        entries.append(xb.CpioSpec(f"./Big.app/Contents/Resources/r{i}.bin", body))
    cpio = xb.cpio_odc(entries)
    path.write_bytes(xb.build_xar([xb.XarFile("PackageInfo", xb.package_info(), encoding="gzip"),
                                   xb.XarFile("Payload", xb.gzip_payload(cpio))]))
    return len(cpio)


def inflate_once(path: Path) -> float:
    from bundlelint.parsers.xar import read_xar

    with path.open("rb") as fh:
        entry = read_xar(fh, path=path.name).entry("Payload")
        assert entry is not None and entry.data is not None
        fh.seek(entry.data.absolute_offset)
        compressed = fh.read(entry.data.length)
    start = time.perf_counter()
    inflater = zlib.decompressobj(31)
    for at in range(0, len(compressed), 1 << 16):
        inflater.decompress(compressed[at:at + (1 << 16)])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1500)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--build-only", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only is not None:  # in a child: this process stays small
        print(build(args.build_only, args.files))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = (args.out or Path(tmp)) / "Big.pkg"
        size = int(subprocess.run([sys.executable, __file__, "--files", str(args.files),
                                   "--build-only", str(path)], check=True, text=True,
                                  capture_output=True).stdout)
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "bundlelint", str(path)], cwd=REPO,
                                 stdout=subprocess.DEVNULL)
        _pid, _status, usage = os.wait4(child.pid, 0)  # the lint's own peak, not ours
        lint = time.perf_counter() - start
        peak = usage.ru_maxrss / 1024
        baseline = inflate_once(path)
        print(f"payload: {size / 1e6:.0f} MB decoded, {args.files + 1} files, "
              f"package {path.stat().st_size / 1e6:.0f} MB")
        print(f"inflate the payload once (zlib): {baseline:.2f} s")
        print(f"bundlelint Big.pkg:              {lint:.2f} s ({lint / baseline:.1f}x), "
              f"peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
