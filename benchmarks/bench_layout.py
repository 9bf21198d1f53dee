"""Cost of the bundle geometry on an app with many frameworks and files.

    python benchmarks/bench_layout.py [--frameworks N] [--files N] [--repeat N]

Builds (in a temporary directory) an app with ``--frameworks`` versioned frameworks, each with
an executable not named after it (``F0.framework/Versions/A/F0Core``) and 40 resources, and
about ``--files`` more resource files. Then prints, best of N, from the same run:

(1) baseline: ``os.walk`` plus ``lstat`` of every path (the least any walk of the tree costs);
(2) ``open_input``: the walk, every entry classified and placed (bundle formats, resource
    bases and nested-code places come from ``bundlelint.layout``);
(3) the geometry of every bundle (content base, Info.plist, main executable) and the signing
    target of every Mach-O file, on a fresh model each time;
(4) ``Bundle.framework_copies``: every framework's root entries looked at (the check that
    runs before any Mach-O rule; it asks ``Bundle.children`` once per framework).

Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import plistlib
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from _timing import best_of  # noqa: E402

from bundlelint.bundle import EntryKind, open_input  # noqa: E402
from fixtures.macho_builder import MH_DYLIB, MachOSpec, build_macho  # noqa: E402


def build(root: Path, frameworks: int, files: int) -> Path:
    app = root / "Big.app"
    contents = app / "Contents"
    (contents / "MacOS").mkdir(parents=True)
    (contents / "MacOS/Big").write_bytes(build_macho(MachOSpec()))
    (contents / "Info.plist").write_bytes(plistlib.dumps({"CFBundleExecutable": "Big"}))
    dylib = build_macho(MachOSpec(filetype=MH_DYLIB))
    for i in range(frameworks):
        fw = contents / f"Frameworks/F{i}.framework"
        version = fw / "Versions/A"
        (version / "Resources").mkdir(parents=True)
        (version / f"F{i}Core").write_bytes(dylib)
        (version / "Resources/Info.plist").write_bytes(
            plistlib.dumps({"CFBundleExecutable": f"F{i}Core"}))
        for j in range(40):
            (version / f"Resources/r{j}.txt").write_bytes(b"r")
        os.symlink("A", fw / "Versions/Current")
        os.symlink(f"Versions/Current/F{i}Core", fw / f"F{i}Core")
        os.symlink("Versions/Current/Resources", fw / "Resources")
    per_dir = 100
    for d in range(max(1, files // per_dir)):
        directory = contents / f"Resources/d{d}"
        directory.mkdir(parents=True)
        for j in range(per_dir):
            (directory / f"f{j}").write_bytes(b"d")
    return app


def walk_baseline(app: Path) -> int:
    count = 0
    for top, dirs, names in os.walk(app):
        for name in dirs + names:
            os.lstat(os.path.join(top, name))
            count += 1
    return count


def geometry(app: Path) -> int:
    bundle = open_input(app)
    for bd in bundle.bundle_dirs:
        bundle.layout.geometry(bd)
    targets = {bundle.layout.signing_target(e.relpath)
               for e in bundle.entries_of(EntryKind.MACHO)}
    return len(targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frameworks", type=int, default=200)
    parser.add_argument("--files", type=int, default=12000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = build(Path(tmp), args.frameworks, args.files)
        paths = walk_baseline(app)
        walk = best_of(lambda: walk_baseline(app), args.repeat)
        model = best_of(lambda: open_input(app), args.repeat)
        whole = best_of(lambda: geometry(app), args.repeat)
        bundles = [open_input(app) for _ in range(args.repeat)]
        copies = best_of(lambda: bundles.pop().framework_copies, args.repeat)
    print(f"app: {args.frameworks} frameworks, {paths} paths")
    print(f"(1) os.walk + lstat baseline:        {walk:8.3f} s")
    print(f"(2) open_input (walk, classify):     {model:8.3f} s  ({model / walk:.1f}x baseline)")
    print(f"(3) + every geometry and target:     {whole:8.3f} s  "
          f"(geometry {max(whole - model, 0.0):.3f} s)")
    print(f"(4) framework_copies on a model:     {copies:8.3f} s")


if __name__ == "__main__":
    main()
