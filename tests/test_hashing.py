"""The shared hashing pool: parallel and serial hashing must give identical answers.

Pieces are forced small (``RANGE`` patched to 64 KiB) so that multi-MB fixtures are spread over
many pieces and both workers; every comparison is against one serial ``verify_pages`` pass or a
``--jobs 1`` run. No timing is asserted here (see benchmarks/bench_scale.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from appbuilder import make_app
from lintutil import TEST_OPTIONS

from bundlelint.analysis import hashing
from bundlelint.analysis.codehash import verify_code
from bundlelint.analysis.hashing import PageSpec, merge, split, verify_pages
from bundlelint.analysis.seal import IssueKind, sealed_bundles
from bundlelint.bundle import Bundle, open_input
from bundlelint.errors import ParseError
from bundlelint.parsers.macho import parse_macho_bytes
from fixtures.macho_builder import MachOSpec, build_fat, build_macho
from fixtures.sealer import seal_bundle
from fixtures.signer import code_slot_hashes, sign_macho

SMALL_RANGE = 64 * 1024


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(hashing, "RANGE", SMALL_RANGE)
    monkeypatch.setattr(hashing, "BATCH_FILES", 3)  # several batches even for small bundles
    monkeypatch.setattr(hashing, "POOL_MIN_BYTES", 0)  # small fixtures still use the pool
    yield
    hashing.shutdown()


def _serial_and_split(data: bytes, available: int,
                      specs: list[PageSpec]) -> tuple[list[object], list[object]]:
    serial = verify_pages(io.BytesIO(data), 0, available, specs)
    pieces = split(available, specs, SMALL_RANGE)
    results = [verify_pages(io.BytesIO(data), p.start, p.available, [s for _, _, s in p.parts])
               for p in pieces]
    return list(serial), list(merge(0, specs, pieces, results))


def _spec(code: bytes, hash_type: int, page_log2: int) -> PageSpec:
    hashes = code_slot_hashes(code, hash_type, page_log2)
    return PageSpec(hash_type, 1 << page_log2 if page_log2 else 0, len(code), b"".join(hashes),
                    len(hashes[0]))


CODE = os.urandom(3 * 1024 * 1024 + 5000)  # 3 MB and a short last page


@pytest.mark.parametrize("flip", [None, 10, 70_000, 2 * 1024 * 1024 + 17, len(CODE) - 1])
def test_split_pages_match_one_serial_pass(flip: int | None) -> None:
    data = bytearray(CODE)
    if flip is not None:
        data[flip] ^= 1
    specs = [_spec(CODE, 2, 14), _spec(CODE, 1, 12), _spec(CODE, 3, 12), _spec(CODE, 2, 0)]
    serial, parallel = _serial_and_split(bytes(data), len(CODE), specs)
    assert parallel == serial
    if flip is not None:
        found = [(r.bad_pages, r.first_bad_page, r.first_bad_offset)  # type: ignore[attr-defined]
                 for r in parallel[:3]]
        assert found == [(1, flip // 16384, flip // 16384 * 16384),
                         (1, flip // 4096, flip // 4096 * 4096),
                         (1, flip // 4096, flip // 4096 * 4096)]
        assert parallel[3].bad_pages == 1  # type: ignore[attr-defined]


def test_split_matches_serial_on_lying_code_directories() -> None:
    good = _spec(CODE, 2, 12)
    specs = [
        replace(good, hashes=good.hashes[: 32 * 300]),  # nCodeSlots too small
        replace(good, code_limit=len(CODE) * 4),  # codeLimit far past the end of the file
        replace(good, hash_type=99),  # a hash type nobody knows
        replace(good, code_limit=100_000),  # a shorter range than the other CDs
        PageSpec(2, 1 << 30, len(CODE), b"\0" * 32, 32),  # a page bigger than a piece
    ]
    serial, parallel = _serial_and_split(CODE, len(CODE), specs)
    assert parallel == serial
    assert serial[1].first_bad_page == -(-len(CODE) // 4096)  # type: ignore[attr-defined]
    # half the bytes missing (a file that shrank): the same answer both ways too
    serial, parallel = _serial_and_split(CODE[: len(CODE) // 2], len(CODE), specs)
    assert parallel == serial


def test_pieces_cover_only_bytes_that_exist() -> None:
    spec = PageSpec(2, 4096, 2**40, b"", 32)  # a codeLimit of a terabyte, no stored hashes
    pieces = split(8192, [spec], SMALL_RANGE)
    assert len(pieces) == 1
    [result] = merge(0, [spec], pieces, [[verify_pages(io.BytesIO(b"\0" * 8192), 0, 8192,
                                                       [pieces[0].parts[0][2]])[0]]])
    assert (result.pages_checked, result.bad_pages, result.first_bad_page) == (
        2**40 // 4096, 2**40 // 4096, 0)


def _big_fat() -> bytes:
    arm = sign_macho(build_macho(MachOSpec(arch="arm64", code=os.urandom(2_500_000),
                                           uuid=b"\1" * 16)),
                     identifier="big", hash_types=(1, 2), page_size_log2=14)
    x86 = sign_macho(build_macho(MachOSpec(arch="x86_64", code=os.urandom(1_200_003),
                                           uuid=b"\2" * 16)),
                     identifier="big", hash_types=(2, 4), page_size_log2=12)
    return build_fat([arm, x86])


def _verify(path: Path, jobs: int) -> object:
    bundle = open_input(path, replace(TEST_OPTIONS, jobs=jobs))
    return verify_code(bundle, bundle.entries[0])


@pytest.mark.parametrize("tamper_slice", [None, 0, 1])
def test_pool_and_one_job_agree_on_a_fat_binary(tmp_path: Path, tamper_slice: int | None) -> None:
    data = bytearray(_big_fat())
    if tamper_slice is not None:
        sl = parse_macho_bytes(bytes(data)).slices[tamper_slice]
        data[sl.offset + 900_001] ^= 0x80  # a page well inside the slice, in a later piece
    path = tmp_path / "big"
    path.write_bytes(bytes(data))
    pooled, serial = _verify(path, 2), _verify(path, 1)
    assert pooled == serial
    for index, sl in enumerate(pooled.slices):  # type: ignore[attr-defined]
        for cd in sl.code_directories:
            if index == tamper_slice:
                page = 900_001 // cd.page_size
                assert (cd.pages.bad_pages, cd.pages.first_bad_page,
                        cd.pages.first_bad_offset) == (1, page, sl.offset + page * cd.page_size)
            else:
                assert cd.pages.bad_pages == 0


def _sealed(tmp_path: Path) -> Path:
    files = {f"Contents/Resources/d{i % 3}/f{i}.bin": os.urandom(i * 700) for i in range(12)}
    files["Contents/Resources/big.bin"] = os.urandom(300_000)
    app = make_app(tmp_path, name="S.app", files=files)
    seal_bundle(app)
    return app


def test_seal_on_the_pool_matches_one_job(tmp_path: Path) -> None:
    app = _sealed(tmp_path)
    (app / "Contents/Resources/d1/f4.bin").write_bytes(b"changed")
    (app / "Contents/Resources/big.bin").unlink()
    seals = {}
    for jobs in (1, 2):
        seals[jobs] = list(sealed_bundles(open_input(app, replace(TEST_OPTIONS, jobs=jobs))))
    assert seals[1] == seals[2]
    [root] = seals[2]
    assert {(i.kind, i.relpath) for i in root.issues} == {
        (IssueKind.MODIFIED, "Resources/d1/f4.bin"), (IssueKind.MISSING, "Resources/big.bin")}


@pytest.fixture
def scheduled_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every relpath handed to ``_schedule_files`` (the on-demand and prefetch file digests)."""
    calls: list[str] = []
    real = hashing._schedule_files

    def counting(bundle: object, entries: list[object], algorithm: str,
                 tracker: object = None) -> object:
        calls.extend(e.relpath for e in entries)  # type: ignore[attr-defined]
        return real(bundle, entries, algorithm, tracker)  # type: ignore[arg-type]

    monkeypatch.setattr(hashing, "_schedule_files", counting)
    return calls


def test_each_file_is_hashed_once(tmp_path: Path, scheduled_files: list[str]) -> None:
    app = _sealed(tmp_path)
    bundle = open_input(app, replace(TEST_OPTIONS, jobs=2))
    for _ in range(2):
        [root] = sealed_bundles(bundle)
        assert root.issues == ()
    assert scheduled_files and len(scheduled_files) == len(set(scheduled_files))


def test_a_file_that_shrinks_after_the_walk(tmp_path: Path) -> None:
    app = _sealed(tmp_path)
    exe = app / "Contents/MacOS/app"
    big = tmp_path / "big"
    big.write_bytes(_big_fat())
    for jobs in (1, 2):
        shutil.copy(big, exe)
        shutil.copy(big, tmp_path / "single")
        bundle = open_input(app, replace(TEST_OPTIONS, jobs=jobs))
        entry = bundle.entry("Contents/MacOS/app")
        assert entry is not None
        macho = bundle.macho(entry)  # parsed while whole
        single = open_input(tmp_path / "single", replace(TEST_OPTIONS, jobs=jobs))
        single.macho(single.entries[0])
        for path in (exe, tmp_path / "single"):
            with open(path, "r+b") as fh:
                fh.truncate(macho.slices[1].offset + 1000)  # the second slice mostly gone
        for b, e in ((bundle, entry), (single, single.entries[0])):
            try:
                result = verify_code(b, e)
            except ParseError:
                continue
            pages = [cd.pages for sl in result.slices for cd in sl.code_directories]
            assert pages and pages[-1].bad_pages > 0
            assert pages[0].bad_pages == 0
        (app / "Contents/Resources/big.bin").write_bytes(b"")
        [root] = sealed_bundles(bundle)
        assert (IssueKind.MODIFIED, "Resources/big.bin") in {(i.kind, i.relpath)
                                                             for i in root.issues}


def test_a_file_swapped_for_a_symlink_is_not_followed(tmp_path: Path) -> None:
    app = _sealed(tmp_path)
    bundle = open_input(app, replace(TEST_OPTIONS, jobs=2))
    target = app / "Contents/Resources/d0/f3.bin"
    target.unlink()
    os.symlink("/etc/passwd", target)
    [root] = sealed_bundles(bundle)
    [issue] = root.issues
    assert issue.relpath == "Resources/d0/f3.bin" and "cannot be read" in issue.detail


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bundlelint", *args], capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parent.parent)


def test_cli_jobs_flag(tmp_path: Path) -> None:
    app = _sealed(tmp_path)
    (app / "Contents/Resources/d2/f5.bin").write_bytes(b"x")
    reports = []
    for jobs in ("1", "2"):
        proc = _cli("--format", "json", "--jobs", jobs, str(app))
        assert proc.returncode == 1, proc.stderr
        reports.append(json.loads(proc.stdout)["findings"])
    assert reports[0] == reports[1]
    assert any(f["rule_id"] == "BL230" and f["path"].endswith("f5.bin") for f in reports[0])
    bad = _cli("--jobs", "0", str(app))
    assert bad.returncode == 2 and "jobs" in bad.stderr


def test_small_inputs_hash_inline_and_big_ones_use_the_pool(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    app = make_app(tmp_path, files={"Contents/Resources/a.bin": b"x" * 4096})
    bundle = open_input(app, replace(TEST_OPTIONS, jobs=2))
    size = sum(e.size for e in bundle.entries)
    monkeypatch.setattr(hashing, "POOL_MIN_BYTES", size + 1)
    assert hashing.jobs_for(bundle) == 1
    monkeypatch.setattr(hashing, "POOL_MIN_BYTES", size)
    fresh = open_input(app, replace(TEST_OPTIONS, jobs=2))
    assert hashing.jobs_for(fresh) == 2


def _early_bundle(app: Path, jobs: int = 2) -> tuple[hashing.EarlyHasher, Bundle, int]:
    early = hashing.EarlyHasher.for_input(str(app), jobs)
    assert early is not None
    bundle = open_input(app, replace(TEST_OPTIONS, jobs=jobs), observer=early.see)
    return early, bundle, early.adopt(bundle)


def test_early_hashing_gives_the_digests_the_seal_check_uses(tmp_path: Path) -> None:
    app = _sealed(tmp_path)
    _, bundle, started = _early_bundle(app)
    resources = [p for p in (app / "Contents/Resources").rglob("*") if p.is_file()]
    assert started >= len(resources)  # every resource was started during the walk
    for path in resources:
        entry = bundle.entry(str(path.relative_to(app)))
        assert entry is not None
        digest = hashlib.sha256(path.read_bytes()).digest()
        assert hashing.file_digest(bundle, entry, "sha256") == digest
    [root] = sealed_bundles(bundle)
    assert root.issues == ()


def test_early_hashing_still_sees_a_modified_resource(tmp_path: Path,
                                                      scheduled_files: list[str]) -> None:
    app = _sealed(tmp_path)
    (app / "Contents/Resources/d2/f5.bin").write_bytes(b"changed after signing")
    _, bundle, _ = _early_bundle(app)
    [root] = sealed_bundles(bundle)
    assert [(i.kind, i.relpath) for i in root.issues] == [
        (IssueKind.MODIFIED, "Resources/d2/f5.bin")]
    # The resources were hashed by the early batches, not scheduled a second time.
    assert not any(r.startswith("Contents/Resources/") for r in scheduled_files)


def test_early_hashing_only_for_sealed_directories_and_several_jobs(tmp_path: Path) -> None:
    unsealed = make_app(tmp_path / "u", files={"Contents/Resources/a": b"a"})
    assert hashing.EarlyHasher.for_input(str(unsealed), 2) is None
    sealed = _sealed(tmp_path / "s")
    assert hashing.EarlyHasher.for_input(str(sealed), 1) is None
    assert hashing.EarlyHasher.for_input(str(sealed), 2) is not None
    assert hashing.EarlyHasher.for_input(str(sealed / "Contents/Info.plist"), 2) is None


def test_early_hashing_waits_for_an_input_worth_a_pool(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    app = _sealed(tmp_path)
    monkeypatch.setattr(hashing, "POOL_MIN_BYTES", 1 << 40)
    _, bundle, started = _early_bundle(app)
    assert started == 0  # too small: nothing speculative, and the seal is checked inline
    [root] = sealed_bundles(bundle)
    assert root.issues == ()


@pytest.mark.parametrize("flip", [None, 0, 300_000, 600_000])
def test_pages_larger_than_a_read_are_hashed_across_reads(flip: int | None) -> None:
    code = bytearray(os.urandom(700_000))
    spec = _spec(bytes(code), 2, 18)  # 256 KiB pages, the last one short
    if flip is not None:
        code[flip] ^= 1
    spanning = verify_pages(io.BytesIO(bytes(code)), 0, len(code), [spec], chunk=64 * 1024)
    whole_pages = verify_pages(io.BytesIO(bytes(code)), 0, len(code), [spec], chunk=1 << 20)
    assert spanning == whole_pages
    [result] = spanning
    assert result.pages_checked == 3
    assert result.bad_pages == (0 if flip is None else 1)
    assert result.first_bad_page == (None if flip is None else flip // (256 * 1024))


def test_a_huge_page_size_allocates_no_huge_buffer() -> None:
    import tracemalloc

    code = os.urandom(50_000)
    huge = PageSpec(2, 1 << 30, len(code), hashlib.sha256(code).digest(), 32)  # one 1 GiB page
    tracemalloc.start()
    try:
        [result] = verify_pages(io.BytesIO(code), 0, len(code), [huge])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * hashing.CHUNK  # not 1 GiB
    assert result.pages_checked == 1 and result.bad_pages == 0  # the short page verifies


def test_a_signed_file_claiming_huge_pages_is_linted_in_little_memory(tmp_path: Path) -> None:
    # Found by the whole-engine fuzzer: a CodeDirectory with pageSize 2^29 made the hashing
    # core allocate a 512 MiB read buffer for a 50 KB file.
    import tracemalloc

    from lintutil import lint

    path = tmp_path / "tool"
    path.write_bytes(sign_macho(build_macho(MachOSpec()), identifier="t", page_size_log2=29))
    tracemalloc.start()
    try:  # one job: the hashing runs in this process, where tracemalloc sees it
        report = lint(path, options=replace(TEST_OPTIONS, jobs=1))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024
    assert "BL210" not in {f.rule_id for f in report.findings}  # the one big page verifies
