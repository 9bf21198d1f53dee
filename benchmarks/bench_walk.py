"""What the one safe open costs the walk of a directory input.

    python benchmarks/bench_walk.py [--files N] [--repeat N]

Builds (in a temporary directory) an app of ``--files`` small files in nested directories, then
prints, best of ``--repeat`` interleaved runs after a warm-up:

- an ``os.walk`` + ``lstat`` baseline (listing only, no file opened);
- ``DirectorySource.walk`` as shipped: every regular file opened through ``inputs.safeopen``
  (``O_NOFOLLOW | O_NONBLOCK``), ``fstat`` re-checked against the listing, 8 bytes read;
- the same walk with the ``fstat`` re-check replaced by nothing (open and read only), which is
  what the walk did before the check existed;
- the ratios. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import best_of

from bundlelint.inputs import directory, safeopen
from bundlelint.inputs.directory import DirectorySource


def build(root: Path, files: int) -> Path:
    app = root / "Bench.app" / "Contents" / "Resources"
    for i in range(files):
        path = app / f"d{i % 100:02d}" / f"e{i % 7}" / f"file{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"resource %d\n" % i)
    return root / "Bench.app"


def os_walk_lstat(root: Path) -> int:
    count = 0
    for top, dirs, names in os.walk(root):
        for name in dirs + names:
            os.lstat(os.path.join(top, name))
            count += 1
    return count


def walk(root: Path) -> int:
    return sum(1 for _ in DirectorySource(root).walk())


def unchecked_read_head(path: str | os.PathLike[str], size: int, *, dir_fd: int | None = None,
                        expect: safeopen.FileIdentity | None = None,
                        follow: bool = False) -> bytes:
    """``read_head`` without the ``fstat`` re-check: the walk as it was before."""
    fd = os.open(path, safeopen.READ_FLAGS, dir_fd=dir_fd)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = build(Path(tmp), args.files)
        checked_read_head = directory.read_head
        walk(app)  # warm the page cache
        times: dict[str, float] = {"baseline": float("inf"), "checked": float("inf"),
                                   "unchecked": float("inf")}
        for _ in range(args.repeat):  # interleaved: machine noise hits all three alike
            times["baseline"] = min(times["baseline"], best_of(lambda: os_walk_lstat(app), 1))
            directory.read_head = checked_read_head  # type: ignore[assignment]
            times["checked"] = min(times["checked"], best_of(lambda: walk(app), 1))
            directory.read_head = unchecked_read_head  # type: ignore[assignment]
            times["unchecked"] = min(times["unchecked"], best_of(lambda: walk(app), 1))
        directory.read_head = checked_read_head  # type: ignore[assignment]
        entries = walk(app)
    print(f"{args.files} files ({entries} entries), best of {args.repeat}")
    print(f"os.walk + lstat baseline:          {times['baseline'] * 1000:8.1f} ms")
    print(f"walk, safe open + fstat re-check:  {times['checked'] * 1000:8.1f} ms "
          f"({times['checked'] / times['baseline']:.2f}x baseline)")
    print(f"walk, open + read, no re-check:    {times['unchecked'] * 1000:8.1f} ms "
          f"({times['unchecked'] / times['baseline']:.2f}x baseline)")
    print(f"cost of the re-check:              "
          f"{times['checked'] / times['unchecked']:.3f}x the unchecked walk")


if __name__ == "__main__":
    main()
