"""bundlelint at scale: a ≥ 1 GB, ≥ 20,000-file sealed bundle, verified by the whole CLI.

    python benchmarks/bench_scale.py [--dir DIR] [--repeat N] [--jobs N] [--pools]

Generates once (cached under ``.cache/bench/scale-v2``, or ``--dir``) a synthetic app sealed
inside-out by ``fixtures/sealer.py``: a universal main executable (arm64 with 16 KiB pages,
x86_64 with 4 KiB pages), two versioned frameworks with large signed dylibs, a nested helper
app, small signed Mach-O files sealed as resources, a few large resources and 20,000+ small
ones. Then prints, from the same run:

- ``python -m bundlelint --format json BUNDLE`` wall time (default jobs, and ``--jobs 1``);
- a single-process ``hashlib.sha256`` baseline reading every file of the bundle once;
- their throughput ratio (target: ≥ 1.6x on two cores);
- peak RSS of the bundlelint process (``RUSAGE_CHILDREN`` maxrss; target ≤ 100 MiB);
- an ``os.walk`` + ``lstat`` baseline for the file count vs bundlelint's walk alone
  (``open_input``, no rules; target: within 2x);
- a floor: the least any Python verifier of this bundle can do, run like the CLI in a fresh
  interpreter with the same number of worker processes: walk the tree and SHA-256 every file
  once on the workers, nothing else (no parsing, no code pages, no seal). Its ratio is the
  ceiling for the real one on this machine.

Every timing is the best of ``--repeat`` interleaved runs after one untimed warm-up pass that
puts the bundle in the page cache (the figures are warm-cache figures). ``--pools`` adds the
threads-vs-processes measurement that chose the design of ``bundlelint.analysis.hashing``.
Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import plistlib
import random
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from _timing import best_of  # noqa: E402

VERSION = "scale-v2"
CHUNK = 1 << 20
MB = 1 << 20
#: Small resources: this many files, in this many directories, sizes log-uniform in the range.
SMALL_FILES = 20_000
SMALL_DIRS = 200
SMALL_RANGE = (256, 48 * 1024)


# --- generation -----------------------------------------------------------------------------


def _signed(size: int, *, arch: str, filetype: int, identifier: str, rng: random.Random,
            page_log2: int, info: bytes | None = None, resources: bytes | None = None) -> bytes:
    from fixtures.cms_signer import cms_callable
    from fixtures.macho_builder import MachOSpec, build_macho
    from fixtures.signer import CS_RUNTIME, sign_macho

    # uuid given: MachOSpec derives one from repr(spec), which would print the whole code.
    spec = MachOSpec(arch=arch, filetype=filetype, code=rng.randbytes(size),
                     uuid=rng.randbytes(16), header_pad=512)
    return sign_macho(build_macho(spec), identifier=identifier, flags=CS_RUNTIME,
                      team_id="ABCDE12345", page_size_log2=page_log2, info_plist=info,
                      code_resources=resources, cms=cms_callable())


def _framework(root: Path, name: str, size: int, rng: random.Random) -> None:
    from fixtures.macho_builder import MH_DYLIB

    versions = root / f"{name}.framework" / "Versions" / "A"
    (versions / "Resources").mkdir(parents=True)
    (versions / "Resources" / "Info.plist").write_bytes(plistlib.dumps({
        "CFBundleExecutable": name, "CFBundleIdentifier": f"com.example.{name.lower()}",
        "CFBundlePackageType": "FMWK"}))
    for i in range(50):
        (versions / "Resources" / f"asset{i}.bin").write_bytes(rng.randbytes(rng.randint(1, 64)
                                                                             * 1024))
    (versions / name).write_bytes(_signed(size, arch="arm64", filetype=MH_DYLIB, rng=rng,
                                          identifier=f"com.example.{name.lower()}",
                                          page_log2=14))
    fw = root / f"{name}.framework"
    os.symlink("A", fw / "Versions" / "Current")
    os.symlink(f"Versions/Current/{name}", fw / name)
    os.symlink("Versions/Current/Resources", fw / "Resources")


def generate(target: Path) -> Path:
    """Write the benchmark bundle under ``target`` (once) and return the ``.app`` path."""
    from appbuilder import make_app

    from fixtures.macho_builder import MH_BUNDLE, MH_DYLIB, build_fat
    from fixtures.sealer import seal_bundle

    app = target / "Scale.app"
    done = target / "complete"
    if done.exists():
        return app
    if target.exists():
        import shutil

        shutil.rmtree(target)
    target.mkdir(parents=True)
    rng = random.Random(6)
    start = time.perf_counter()
    main_slices = [
        _signed(100 * MB, arch="arm64", filetype=0x2, identifier="com.example.scale", rng=rng,
                page_log2=14),
        _signed(100 * MB, arch="x86_64", filetype=0x2, identifier="com.example.scale", rng=rng,
                page_log2=12),
    ]
    app = make_app(target, name="Scale.app", executable=build_fat(main_slices),
                   exe_name="Scale", info_overrides={"CFBundleExecutable": "Scale",
                                                     "CFBundleIdentifier": "com.example.scale"})
    contents = app / "Contents"
    frameworks = contents / "Frameworks"
    frameworks.mkdir()
    _framework(frameworks, "Engine", 200 * MB, rng)
    _framework(frameworks, "Render", 100 * MB, rng)
    (frameworks / "libffmpeg.dylib").write_bytes(_signed(
        30 * MB, arch="arm64", filetype=MH_DYLIB, identifier="libffmpeg", rng=rng, page_log2=12))
    helper = contents / "Helpers" / "Helper.app" / "Contents"
    (helper / "MacOS").mkdir(parents=True)
    (helper / "Info.plist").write_bytes(plistlib.dumps({
        "CFBundleExecutable": "Helper", "CFBundleIdentifier": "com.example.scale.helper",
        "CFBundlePackageType": "APPL"}))
    (helper / "MacOS" / "Helper").write_bytes(_signed(
        40 * MB, arch="arm64", filetype=0x2, identifier="com.example.scale.helper", rng=rng,
        page_log2=14))
    (helper / "MacOS" / "Helper").chmod(0o755)
    resources = contents / "Resources"
    resources.mkdir()
    for i in range(3):  # large resources, like app.asar and model files
        with open(resources / f"large{i}.bin", "wb") as fh:
            for _ in range((50 if i else 150) // 10):
                fh.write(rng.randbytes(10 * MB))
    native = resources / "app.asar.unpacked" / "node_modules"
    for i in range(20):  # native modules: Mach-O files sealed by file hash, not cdhash
        mod = native / f"mod{i}" / "build" / "Release"
        mod.mkdir(parents=True)
        (mod / f"mod{i}.node").write_bytes(_signed(
            rng.randint(64, 2048) * 1024, arch="arm64", filetype=MH_BUNDLE,
            identifier=f"mod{i}", rng=rng, page_log2=14))
    lo, hi = SMALL_RANGE
    for i in range(SMALL_FILES):
        directory = resources / f"pack{i % SMALL_DIRS:03d}" / f"sub{i % 7}"
        directory.mkdir(parents=True, exist_ok=True)
        size = int(lo * (hi / lo) ** rng.random())
        (directory / f"file{i:05d}.dat").write_bytes(rng.randbytes(size))
    seal_bundle(app)
    from fixtures import test_ca

    (target / "test-root.der").write_bytes(test_ca.root().der)
    done.write_text(f"generated in {time.perf_counter() - start:.0f} s\n")
    return app


# --- measurements ---------------------------------------------------------------------------


def _files(root: Path) -> list[str]:
    out = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                out.append(path)
    return out


def hash_baseline(paths: list[str]) -> int:
    """One core, one pass: hashlib.sha256 of every file, 1 MiB reads into one buffer."""
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    total = 0
    for path in paths:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            while n := fh.readinto(buf):
                h.update(view[:n])
                total += n
    return total


def walk_baseline(root: Path) -> int:
    """os.walk + lstat of every entry: the least any walk of this tree can do."""
    count = 0
    for dirpath, dirs, names in os.walk(root):
        for name in dirs + names:
            os.lstat(os.path.join(dirpath, name))
            count += 1
    return count


def bundlelint_walk(app: Path) -> int:
    from bundlelint.bundle import open_input

    return len(open_input(app).entries)


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/task/{current}/children") as fh:
                kids = [int(k) for k in fh.read().split()]
        except OSError:
            continue
        out += kids
        todo += kids
    return out


def _tree_memory(pid: int) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) in KiB of ``pid``'s descendants: bundlelint and its workers.
    PSS shares the pages that forked workers have in common with their parent fairly."""
    rss = pss = 0
    for kid in _descendants(pid):
        try:
            with open(f"/proc/{kid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            continue
    return rss, pss


def run_cli(app: Path, jobs: int | None) -> tuple[float, float, float, float, dict[str, object]]:
    """(seconds, peak RSS of the largest process, peak summed RSS and PSS of bundlelint and its
    workers (MiB, /proc polled every 10 ms), JSON report) of one ``python -m bundlelint``."""
    cmd = [sys.executable, "-m", "bundlelint", "--format", "json", str(app), "--trust-anchor",
           str(app.parent / "test-root.der")]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    code = ("import resource, subprocess, sys, time, json\n"
            "t = time.perf_counter()\n"
            "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
            "dt = time.perf_counter() - t\n"
            "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
            "sys.stdout.write(json.dumps([dt, rss, p.returncode, p.stderr.decode()[-2000:]])"
            " + '\\n')\n"
            "sys.stdout.write(p.stdout.decode())\n")
    # A fresh parent per run, so RUSAGE_CHILDREN's maxrss is this run's bundlelint alone.
    wrapper = subprocess.Popen([sys.executable, "-c", code, *cmd], stdout=subprocess.PIPE,
                               text=True, cwd=REPO)
    import threading

    peak = [0, 0]
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(0.01):
            rss, pss = _tree_memory(wrapper.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)

    poller = threading.Thread(target=poll)
    poller.start()
    out, _ = wrapper.communicate()
    stop.set()
    poller.join()
    head, _, body = out.partition("\n")
    seconds, rss_kib, rc, err = json.loads(head)
    if rc not in (0, 1):
        raise SystemExit(f"bundlelint exited {rc}: {err}")
    return seconds, rss_kib / 1024, peak[0] / 1024, peak[1] / 1024, json.loads(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=REPO / ".cache" / "bench" / VERSION)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pools", action="store_true",
                        help="also measure threads vs processes for page hashing")
    parser.add_argument("--floor-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_child is not None:
        floor_pipeline(args.floor_child)
        return
    app = generate(args.dir)
    paths = _files(app)
    total = sum(os.path.getsize(p) for p in paths)
    print(f"bundle: {app} ({len(paths)} files, {total / 1e9:.2f} GB, "
          f"{os.cpu_count()} CPUs)")
    hash_baseline(paths)  # warm the page cache (both sides then read from memory)
    if args.pools:
        compare_pools(paths)

    t_hash = t_walk = t_bwalk = t_floor = float("inf")
    runs: dict[str, list[float]] = {}
    findings: dict[str, list[str]] = {}
    for _ in range(args.repeat):
        t_hash = min(t_hash, best_of(lambda: hash_baseline(paths), 1))
        t_walk = min(t_walk, best_of(lambda: walk_baseline(app), 1))
        t_bwalk = min(t_bwalk, best_of(lambda: bundlelint_walk(app), 1))
        t_floor = min(t_floor, best_of(lambda: subprocess.run(
            [sys.executable, __file__, "--floor-child", str(app)], check=True), 1))
        for label, jobs in (("default jobs", None), ("--jobs 1", 1)):
            seconds, rss, tree_rss, tree_pss, report = run_cli(app, jobs)
            best = runs.setdefault(label, [float("inf"), 0.0, 0.0, 0.0])
            runs[label] = [min(best[0], seconds), max(best[1], rss), max(best[2], tree_rss),
                           max(best[3], tree_pss)]
            findings[label] = sorted({str(f["rule_id"])
                                      for f in report["findings"]})  # type: ignore[attr-defined]
    count = walk_baseline(app)
    gb = total / 1e9
    print(f"hashlib.sha256, one core, every file once: {t_hash:6.2f} s  {gb / t_hash:5.2f} GB/s")
    for label, (seconds, rss, tree_rss, tree_pss) in runs.items():
        print(f"bundlelint CLI ({label}): {seconds:6.2f} s  {gb / seconds:5.2f} GB/s  "
              f"ratio {t_hash / seconds:4.2f}x of one-core hashlib; peak RSS {rss:5.1f} MiB "
              f"(largest process), {tree_rss:5.1f} MiB RSS / {tree_pss:5.1f} MiB PSS summed "
              f"over bundlelint and its workers; findings: "
              f"{', '.join(findings[label]) or 'none'}")
    print(f"floor (fresh interpreter: walk + one SHA-256 per file on {os.cpu_count()} worker "
          f"processes, nothing else): {t_floor:6.2f} s  ratio {t_hash / t_floor:4.2f}x of "
          "one-core hashlib")
    print(f"walk: os.walk + lstat of {count} entries: {t_walk * 1e3:6.0f} ms; "
          f"bundlelint walk (open_input, no rules): {t_bwalk * 1e3:6.0f} ms "
          f"({t_bwalk / t_walk:.2f}x)")
    print(f"(best of {args.repeat}, interleaved, warm page cache)")


# --- the floor ------------------------------------------------------------------------------


def floor_pipeline(app: Path) -> None:
    """Walk ``app`` and SHA-256 every regular file once on ``os.cpu_count()`` forked worker
    processes, in batches submitted while the walk goes on; nothing else. Run in a fresh
    interpreter (``--floor-child``), so it pays the same start-up as the CLI."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(os.cpu_count() or 1, mp_context=get_context("fork")) as ex:
        futures, batch, size = [], [], 0
        stack = [str(app)]
        while stack:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        batch.append(entry.path)
                        size += entry.stat(follow_symlinks=False).st_size
                        if size >= 8 * MB or len(batch) >= 512:
                            futures.append(ex.submit(hash_baseline, batch))
                            batch, size = [], 0
        futures.append(ex.submit(hash_baseline, batch))
        total = sum(f.result() for f in futures)
    assert total > 0


# --- threads vs processes -------------------------------------------------------------------


def compare_pools(paths: list[str]) -> None:
    """Hash page-aligned 8 MiB ranges of the big files with 4 KiB pages on 1 and 2 workers,
    as threads and as processes (workers open the file by path and return page digests)."""
    from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

    big = [p for p in paths if os.path.getsize(p) >= 20 * MB]
    tasks = [(p, off, min(8 * MB, os.path.getsize(p) - off))
             for p in big for off in range(0, os.path.getsize(p), 8 * MB)]
    total = sum(t[2] for t in tasks)
    print(f"pools: {len(big)} files, {len(tasks)} ranges of 8 MiB, {total / 1e9:.2f} GB, "
          "4 KiB pages")
    t_one = best_of(lambda: [_page_digests(*t) for t in tasks], 2)
    print(f"  serial, main thread:  {t_one:6.2f} s  {total / 1e9 / t_one:5.2f} GB/s")
    for jobs in (2, 4):
        for kind, make in (("threads", ThreadPoolExecutor), ("processes", ProcessPoolExecutor)):
            with make(jobs) as pool:
                ex: Executor = pool
                list(ex.map(_page_digests, *zip(*tasks[:jobs], strict=True)))  # start workers
                t = best_of(lambda ex=ex: list(ex.map(_page_digests, *zip(*tasks, strict=True))),
                          2)
            print(f"  {jobs} {kind:9}:         {t:6.2f} s  {total / 1e9 / t:5.2f} GB/s  "
                  f"({t_one / t:.2f}x serial)")


def _page_digests(path: str, offset: int, length: int, page: int = 4096) -> list[bytes]:
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    out = []
    with open(path, "rb") as fh:
        fh.seek(offset)
        left = length
        while left > 0:
            n = fh.readinto(view[: min(CHUNK, left)])
            if not n:
                break
            out += [hashlib.sha256(view[o : min(o + page, n)]).digest()
                    for o in range(0, n, page)]
            left -= n
    return out


if __name__ == "__main__":
    main()
