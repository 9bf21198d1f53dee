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

``--hostile`` instead runs each reader, in a child limited to 30 s and 2 GiB, over hostile
containers made from a builder container (a B-tree loop, an object-map loop, a directory
loop, a node claiming 2^32 entries, an object map pointing past the end, a truncated image,
600 nested directories, a decmpfs chunk that inflates to 512 MiB for a 64 KiB file) and
prints what each did: a ParseError with its offset, another exception, a timeout, and the
time and peak memory.

Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import resource
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


def _hostile_cases() -> dict[str, bytes]:
    import struct
    import zlib

    from fixtures.apfs_builder import BLOCK, ROOT_TREE_OID, Entry, build_apfs, seal

    def patched(image: bytes, paddr: int, at: int, value: bytes) -> bytes:
        block = bytearray(image[paddr * BLOCK:(paddr + 1) * BLOCK])
        block[at:at + len(value)] = value
        return image[:paddr * BLOCK] + seal(block) + image[(paddr + 1) * BLOCK:]

    small = build_apfs([Entry("a/b/c", b"x"), Entry("d", b"y" * 5000)])
    wide = build_apfs([Entry(f"d{i // 40}/f{i:03d}", b"%d" % i) for i in range(300)])
    root = wide[8 * BLOCK:9 * BLOCK]
    v_off = struct.unpack_from("<HHHH", root, 56)[2]
    omap = bytearray(small[7 * BLOCK:8 * BLOCK])
    at = bytes(omap).index(struct.pack("<IIQ", 0, BLOCK, 8))
    struct.pack_into("<HH", omap, 32, 0x5, 1)
    omap[at:at + 8] = struct.pack("<Q", 7)
    # a/b's directory record made to name a's inode (inode numbers read by our own reader).
    from bundlelint.parsers.apfs import read_container

    [volume] = read_container(io.BytesIO(small)).volumes
    offsets = {n.path: n.offset or 0 for n in volume.walk()}
    a_oid, b_oid = (struct.unpack_from("<Q", small, offsets[p] + 8)[0] for p in ("a", "a/b"))
    fs_root = small[8 * BLOCK:9 * BLOCK]
    b_drec = fs_root.index(struct.pack("<QQH", b_oid, 0, 4))
    bomb = zlib.compress(bytes(512 << 20), 9)
    resource = struct.pack("<III", 1, 12, len(bomb)) + bomb
    fork = (struct.pack(">IIII", 0x100, 0x104 + len(resource), len(resource) + 4, 50)
            + bytes(0x100 - 16) + struct.pack(">I", len(resource)) + resource + bytes(50))
    return {
        "B-tree loop": patched(wide, 8, BLOCK - 40 - v_off, struct.pack("<Q", ROOT_TREE_OID)),
        "object-map loop": small[:7 * BLOCK] + seal(omap) + small[8 * BLOCK:],
        "directory loop": patched(small, 8, b_drec, struct.pack("<Q", a_oid)),
        "2^32 entries": patched(small, 8, 36, struct.pack("<I", 0xFFFFFFFF)),
        "omap past end": patched(small, 7, at + 8, struct.pack("<Q", 0xFFFFFFFF)),
        "truncated": small[:8 * BLOCK + 100],
        "600 levels": build_apfs([Entry("d/" * 600 + "f", b"deep")]),
        "decmpfs bomb": build_apfs([Entry("bomb", bytes(65536), decmpfs=(4, b"", fork))]),
    }


def _hostile_child(which: str, path: str) -> None:
    import time

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    start = time.perf_counter()
    try:
        count = walk_ours(path) if which == "ours" else walk_dissect(path)
        outcome = f"read ({count} entries)"
    except BaseException as exc:  # what each reader raises is the point of the measurement
        offset = getattr(exc, "offset", None)
        outcome = type(exc).__name__ + (f" at {offset:#x}" if offset is not None else "")
    status = Path("/proc/self/status").read_text()
    peak = int(next(line for line in status.splitlines() if line.startswith("VmHWM:"))
               .split()[1]) // 1024
    print(f"{outcome}, {time.perf_counter() - start:.2f} s, {peak} MiB")


def hostile(dissect: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in _hostile_cases().items():
            path = os.path.join(tmp, "hostile.apfs")
            Path(path).write_bytes(data)
            for which in ("ours", "dissect") if dissect else ("ours",):
                try:
                    out = subprocess.run([sys.executable, __file__, "--hostile-child", which,
                                          path], capture_output=True, text=True, cwd=REPO,
                                         timeout=30).stdout.strip()
                except subprocess.TimeoutExpired:
                    out = "no answer after 30 s (killed)"
                label = "parsers/apfs.py" if which == "ours" else "dissect.apfs"
                print(f"{name:16} {label:16} {out}")


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
    parser.add_argument("--hostile", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("WHICH", "PATH"))
    parser.add_argument("--hostile-child", nargs=2, metavar=("WHICH", "PATH"))
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    if args.hostile_child:
        _hostile_child(*args.hostile_child)
        return
    dissect = _has_dissect()
    if args.hostile:
        hostile(dissect)
        return
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
