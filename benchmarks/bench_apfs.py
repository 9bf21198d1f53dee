"""Cost of reading an APFS container with parsers/apfs.py, against reading its bytes once and,
when it is installed, against Fox-IT's ``dissect.apfs`` doing the same work.

    python benchmarks/bench_apfs.py [--files N] [--repeat N] [--partition PATH]...
    pip install dissect.apfs   # optional: adds its figures to the same run

Inputs: a container written by fixtures/apfs_builder.py (``--files`` files of 4-40 KiB in 50
directories, a tenth of them zlib-compressed in the resource fork), plus any APFS partition
given with ``--partition`` (for example the one 7-Zip extracts from a sample disk image:
``7zz x -tdmg image.dmg``). For each it prints, best of N:

(1) baseline: reading and hashing the container's bytes once, sequentially (the floor for
    a reader that hashes every file: the same bytes through the same hash);
(2) parsers/apfs.py: open the container, walk every volume, read and hash every file;
(3) dissect.apfs (if importable): the same walk, read and hash;
(4) peak memory (VmHWM) of a child process doing (2) or (3), next to a child that only
    imports the reader.

Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from _timing import best_of  # noqa: E402


def _container(files: int) -> bytes:
    from fixtures.apfs_builder import Entry, build_apfs

    rng = random.Random(7)
    entries = []
    for i in range(files):
        size = rng.randrange(4 << 10, 40 << 10)
        data = (b"%08d " % i) * (size // 9)
        path = f"App.app/Contents/Resources/d{i % 50:02d}/file{i:05d}"
        if i % 10 == 0:
            entries.append(Entry(path, data, compression="zlib-rsrc"))
        else:
            entries.append(Entry(path, data))
    return build_apfs(entries)


def walk_ours(path: str) -> int:
    from bundlelint.parsers.apfs import read_container
    from bundlelint.parsers.volume import NodeKind

    count = 0
    with open(path, "rb") as fh:
        for volume in read_container(fh, path).volumes:
            for node in volume.walk():
                count += 1
                if node.kind is NodeKind.FILE and node.error is None:
                    digest = hashlib.sha256()
                    with volume.open(node.path) as f:
                        while chunk := f.read(1 << 20):
                            digest.update(chunk)
    return count


def walk_dissect(path: str) -> int:
    from dissect.apfs import APFS  # type: ignore[import-not-found]

    count = 0
    with open(path, "rb") as fh:
        for volume in APFS(fh).volumes:
            stack = [volume.root]
            while stack:
                for entry in stack.pop().iterdir():
                    if entry.name in (".", ".."):
                        continue
                    count += 1
                    inode = entry.inode
                    if inode.is_dir():
                        stack.append(inode)
                    elif inode.is_file():
                        digest = hashlib.sha256()
                        f = inode.open()
                        while chunk := f.read(1 << 20):
                            digest.update(chunk)
    return count


def read_once(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _child(which: str, path: str) -> None:
    if which == "ours":
        walk_ours(path)
    elif which == "ours-import":
        import bundlelint.parsers.apfs  # noqa: F401
    elif which == "dissect":
        walk_dissect(path)
    elif which == "dissect-import":
        import dissect.apfs  # noqa: F401
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec from the parent.
    status = Path("/proc/self/status").read_text()
    print(int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])
          // 1024)


def _peak_mib(which: str, path: str) -> int:
    out = subprocess.run([sys.executable, __file__, "--child", which, path], check=True,
                         capture_output=True, text=True, cwd=REPO).stdout
    return int(out.split()[-1])


def _has_dissect() -> bool:
    try:
        import dissect.apfs  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--partition", action="append", default=[])
    parser.add_argument("--child", nargs=2, metavar=("WHICH", "PATH"))
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    dissect = _has_dissect()
    with tempfile.TemporaryDirectory() as tmp:
        generated = os.path.join(tmp, "generated.apfs")
        Path(generated).write_bytes(_container(args.files))
        for path in [generated, *args.partition]:
            size = os.path.getsize(path)
            entries = walk_ours(path)
            print(f"{Path(path).name}: {size / 2**20:.1f} MiB, {entries} entries")
            base = best_of(lambda p=path: read_once(p), args.repeat)
            ours = best_of(lambda p=path: walk_ours(p), args.repeat)
            print(f"  read + hash once     {base * 1000:8.1f} ms")
            print(f"  parsers/apfs.py      {ours * 1000:8.1f} ms  ({ours / base:.1f}x baseline)"
                  f"  peak {_peak_mib('ours', path)} MiB (import alone "
                  f"{_peak_mib('ours-import', path)} MiB)")
            if dissect:
                theirs = best_of(lambda p=path: walk_dissect(p), args.repeat)
                print(f"  dissect.apfs         {theirs * 1000:8.1f} ms  ({theirs / ours:.2f}x "
                      f"ours)  peak {_peak_mib('dissect', path)} MiB (import alone "
                      f"{_peak_mib('dissect-import', path)} MiB)")
            else:
                print("  dissect.apfs         not installed (pip install dissect.apfs)")


if __name__ == "__main__":
    main()
