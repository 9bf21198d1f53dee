"""What the structure rules (BL010-BL020) cost on a big bundle, against the walk they follow.

    python benchmarks/bench_structure.py [--files N] [--frameworks N] [--repeat N]

Generates (in a temporary directory) an app of ``--files`` small resources, ``--frameworks``
versioned frameworks, a PyInstaller-like Contents/MacOS with a few hundred data files and
dotted folders, and nested helpers; then prints, from the same run:

- the walk: ``open_input`` alone (every entry classified, nothing parsed);
- the structure rules alone on that model (``run_rules`` selecting BL010-BL020);
- their ratio: what the structure rules add to the walk every run pays anyway.

Every figure is the best of ``--repeat`` runs (warm page cache). Prints figures only.
"""

from __future__ import annotations

import argparse
import plistlib
import sys
import tempfile
import time
from pathlib import Path

from _timing import best_of

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from bundlelint.bundle import open_input  # noqa: E402
from bundlelint.engine import Selection, run_rules  # noqa: E402
from bundlelint.rules import load_registry  # noqa: E402
from fixtures.macho_builder import MH_DYLIB, MachOSpec, build_macho  # noqa: E402

STRUCTURE = tuple(f"BL0{n}" for n in range(10, 21))


def make_bundle(root: Path, files: int, frameworks: int) -> Path:
    app = root / "Big.app"
    contents = app / "Contents"
    (contents / "MacOS").mkdir(parents=True)
    (contents / "Info.plist").write_bytes(plistlib.dumps({
        "CFBundleExecutable": "big", "CFBundleIdentifier": "com.example.big",
        "CFBundlePackageType": "APPL"}))
    (contents / "MacOS" / "big").write_bytes(build_macho(MachOSpec(rpaths=(
        "/Users/runner/work/big/lib",))))
    resources = contents / "Resources"
    for i in range(files):
        sub = resources / f"d{i % 100:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.dat").write_bytes(b"x")
    for i in range(300):  # PyInstaller-like data next to the executable
        pkg = contents / "MacOS" / f"pkg{i % 30}"
        pkg.mkdir(exist_ok=True)
        (pkg / f"m{i}.pyc").write_bytes(b"\x00")
    for i in range(20):
        (contents / "MacOS" / f"lib{i}.dist-info").mkdir()
        (contents / "MacOS" / f"lib{i}.dist-info" / "METADATA").write_bytes(b"x")
    dylib = build_macho(MachOSpec(filetype=MH_DYLIB))
    for i in range(frameworks):
        fw = contents / "Frameworks" / f"F{i}.framework"
        a = fw / "Versions" / "A"
        (a / "Resources").mkdir(parents=True)
        (a / "Resources" / "Info.plist").write_bytes(plistlib.dumps({
            "CFBundleExecutable": f"F{i}", "CFBundleIdentifier": f"com.example.f{i}"}))
        (a / f"F{i}").write_bytes(dylib)
        (fw / "Versions" / "Current").symlink_to("A")
        (fw / f"F{i}").symlink_to(f"Versions/Current/F{i}")
        (fw / "Resources").symlink_to("Versions/Current/Resources")
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--frameworks", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    registry = load_registry(plugins=False)
    selection = Selection(select=STRUCTURE)
    with tempfile.TemporaryDirectory() as tmp:
        app = make_bundle(Path(tmp), args.files, args.frameworks)
        walk = best_of(lambda: open_input(app), args.repeat)
        rules = float("inf")
        findings = 0
        for _ in range(args.repeat):  # a fresh model each time (rules memoise on it)
            bundle = open_input(app)
            start = time.perf_counter()
            report = run_rules(bundle, registry, selection)
            rules = min(rules, time.perf_counter() - start)
            findings = len(report.findings)
        entries = len(bundle.entries)
    print(f"entries: {entries}, structure findings: {findings}")
    print(f"walk (open_input):      {walk * 1000:8.1f} ms")
    print(f"structure rules alone:  {rules * 1000:8.1f} ms ({rules / walk:.2f}x the walk)")


if __name__ == "__main__":
    main()
