"""Cost of linting a large disk image, read on demand, against reading its bytes once.

    python benchmarks/bench_dmg.py [--mb MB] [--files N] [--repeat N] [--keep PATH]

Builds (once, in a temporary directory, or at ``--keep``) a UDZO-style image (zlib chunks of
1 MiB, GPT, one HFS+ volume made by ``fixtures.hfsplus_builder``) holding a sealed,
Developer ID-like app whose Resources hold ``--files`` files of random bytes, ``--mb`` MiB in
all, so the image itself is that large. Then measures, in the same run, each in a fresh child
process:

(1) baseline: every chunk of the image read and decompressed once with the same decoder
    (``parsers.udifchunks.decompress``): the floor for anything that looks at every byte;
(2) ``bundlelint`` on the image, end to end (the walk of the HFS+ volume, every rule, the
    seal verification, which reads every resource file through the volume and the chunks);

and prints wall time, the ratio (2)/(1), and each child's peak memory (VmHWM, the issue's
limit is 150 MiB). Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

_BASELINE = """
import sys, time
from bundlelint.parsers import udifchunks
from bundlelint.parsers.udif import read_disk_image
from bundlelint.parsers.udifchunks import COMPRESSED_KINDS
start = time.perf_counter()
total = 0
with open(sys.argv[1], "rb") as fh:
    image = read_disk_image(fh, sys.argv[1])
    for bm in image.block_maps:
        for chunk in bm.chunks:
            if chunk.kind in COMPRESSED_KINDS:
                fh.seek(chunk.data_offset)
                total += len(udifchunks.decompress(chunk.kind, fh.read(chunk.data_length),
                                                   chunk.size))
elapsed = time.perf_counter() - start
with open("/proc/self/status") as fh:
    peak = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
print(elapsed, peak, total)
"""

_LINT = """
import sys, time
import bundlelint
from bundlelint.options import Options
# The test CA is made anew in every process: trust the root the image's app was signed under.
with open(sys.argv[1] + ".root.der", "rb") as fh:
    root = fh.read()
start = time.perf_counter()
report = bundlelint.lint(sys.argv[1], options=Options(extra_trust_anchors=(root,)))
elapsed = time.perf_counter() - start
with open("/proc/self/status") as fh:
    peak = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
errors = sum(1 for f in report.findings if f.severity.value == "error")
print(elapsed, peak, len(report.findings), errors)
"""


def build(path: Path, mb: int, files: int) -> None:
    from appbuilder import sealed_app

    from fixtures import test_ca, udif_builder

    rng = random.Random(7)
    size = mb * 1024 * 1024 // files
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "Big"
        folder.mkdir()
        resources = {f"Contents/Resources/data/{i // 100:03d}/blob{i:05d}.bin":
                     rng.randbytes(size) for i in range(files)}
        sealed_app(folder, name="Big.app", files=resources)
        del resources
        (folder / "Applications").symlink_to("/Applications")
        image = udif_builder.dmg_of_directory(folder, kinds="zlib")
    path.write_bytes(image)
    Path(f"{path}.root.der").write_bytes(test_ca.root().der)


def _child(script: str, image: Path) -> list[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]))
    out = subprocess.run([sys.executable, "-c", script, str(image)], capture_output=True,
                         text=True, check=True, env=env, cwd=REPO)
    return out.stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=520)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="build the image here once, and reuse it")
    args = parser.parse_args()
    tmp = None
    if args.keep is not None and args.keep.exists():
        image = args.keep
    else:
        tmp = Path(tempfile.mkdtemp())
        image = args.keep or tmp / "Big.dmg"
        start = time.perf_counter()
        build(image, args.mb, args.files)
        print(f"built {image.stat().st_size / 2**20:.0f} MiB image with {args.files} files "
              f"in {time.perf_counter() - start:.1f} s")
    try:
        base = min((_child(_BASELINE, image) for _ in range(args.repeat)),
                   key=lambda r: float(r[0]))
        lint = min((_child(_LINT, image) for _ in range(args.repeat)),
                   key=lambda r: float(r[0]))
        base_s, lint_s = float(base[0]), float(lint[0])
        print(f"image: {image.stat().st_size / 2**20:.0f} MiB, disk "
              f"{int(base[2]) / 2**20:.0f} MiB decompressed")
        print(f"baseline (every chunk decompressed once): {base_s:.2f} s, "
              f"peak {int(base[1]) / 1024:.0f} MiB")
        print(f"lint (walk, every rule, seal verified):   {lint_s:.2f} s, "
              f"peak {int(lint[1]) / 1024:.0f} MiB, {lint[2]} findings ({lint[3]} errors)")
        print(f"ratio lint/baseline: {lint_s / base_s:.2f}x")
    finally:
        if tmp is not None and args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
