"""Hashing at the machine's limit: the page-hashing core, whole-file digests, and the worker
pool that runs both across cores, shared by code-signature and resource-seal verification.

Why a process pool: on the two-core machine this was built on, threads give no speed-up for
code pages (SHA-256 of 4 KiB pages with threads ran at 0.75x of one thread: every page releases
and re-takes the GIL), while processes give 1.98x (``benchmarks/bench_scale.py --pools``).
Workers are forked, open each file themselves by path through ``inputs.safeopen`` (no link
followed, no FIFO waited on, regular files only, the very file the walk saw) and return digests
or :class:`PageResult` values, so nothing big crosses a pipe.

How work is split:

- a slice's code is cut into page-aligned ranges of :data:`RANGE` bytes; one range is read
  once for every CodeDirectory of the slice, and the results are merged so that they are
  exactly what one serial :func:`verify_pages` over the whole slice gives;
- small files are hashed in batches (:data:`BATCH_BYTES`, :data:`BATCH_FILES`) so that
  per-task overhead stays small; a big file is one task (a whole-file digest is sequential).

Memory is bounded by design: a worker holds one :data:`CHUNK` buffer at a time, the pool has
``jobs`` workers, and results are digests. Files are read with ``readinto`` (never mmap: a file
that shrinks under an mmap kills the process with SIGBUS; a short read is just a bad page).

Each result is cached in ``bundle.memo`` (a future), so a file is hashed once however many
rules ask. :func:`prefetch` is called by the first hashing analysis and schedules every
Mach-O's pages and every sealed file's SHA-256 at once, so that the pool works while the main
thread parses and runs rules. ``--jobs 1`` uses no pool: everything is computed lazily in the
calling thread, exactly as before.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future, ProcessPoolExecutor

from bundlelint import progress
from bundlelint.inputs.safeopen import open_binary
from bundlelint.inputs.source import LocalFile
from bundlelint.parsers.macho import sniff_macho as _sniff_macho

if TYPE_CHECKING:
    from bundlelint.bundle import Bundle, Entry
    from bundlelint.inputs.safeopen import FileIdentity
    from bundlelint.inputs.source import RawEntry

#: Bytes read per call: large enough that Python overhead is negligible, a multiple of every
#: usual page size (4 KiB, 16 KiB), and small enough to stay in the CPU cache between the read
#: and the hashing (1 MiB measured faster than 8 MiB), so memory stays flat.
CHUNK = 1 << 20
#: Bytes of one page-hashing task: big enough to amortise a task (~10 ms of hashing), small
#: enough that a 100 MB slice keeps every worker busy. A power of two, so page-aligned.
RANGE = 16 << 20
#: Small files are hashed in batches of at most this many bytes or files.
BATCH_BYTES = 8 << 20
BATCH_FILES = 512

#: hashType -> (hashlib constructor, digest bytes kept). Type 3 is SHA-256 truncated to 20.
ALGORITHMS: dict[int, tuple[Callable[..., hashlib._Hash], int]] = {
    1: (hashlib.sha1, 20),
    2: (hashlib.sha256, 32),
    3: (hashlib.sha256, 20),
    4: (hashlib.sha384, 48),
    5: (hashlib.sha512, 64),
}


# --- the page-hashing core ---------------------------------------------------------------------


@dataclass(frozen=True)
class PageResult:
    """What :func:`verify_pages` found for one CodeDirectory over one range."""

    pages_checked: int
    bad_pages: int
    first_bad_page: int | None
    first_bad_offset: int | None  # absolute file offset of the first bad page


@dataclass(frozen=True)
class PageSpec:
    """What the page-hashing core needs from one CodeDirectory (picklable, no bundle)."""

    hash_type: int
    page_size: int  # 0: one hash over the whole range
    code_limit: int  # bytes of the slice covered
    hashes: bytes  # the stored code-slot hashes, concatenated (hash_size each)
    hash_size: int


def expected_pages(spec: PageSpec) -> int:
    """How many code slots ``spec``'s range needs: ceil(codeLimit / pageSize), one for 0."""
    if spec.code_limit <= 0:
        return 0
    if spec.page_size == 0:
        return 1
    return -(-spec.code_limit // spec.page_size)


class _PageState:
    """Running tally for one spec while :func:`verify_pages` walks the range."""

    __slots__ = ("algo", "bad", "checked", "current", "first_bad", "n_stored", "spanning",
                 "spec", "whole")

    def __init__(self, spec: PageSpec, chunk: int = CHUNK) -> None:
        self.spec = spec
        self.algo = ALGORITHMS.get(spec.hash_type)
        self.n_stored = len(spec.hashes) // spec.hash_size if spec.hash_size else 0
        self.checked = 0
        self.bad = 0
        self.first_bad: int | None = None
        # pageSize 0: one hash over the whole range, fed as the chunks go by.
        self.whole = self.algo[0]() if self.algo is not None and spec.page_size == 0 else None
        # Pages bigger than one read (a CodeDirectory may say up to 2^30): each page is hashed
        # as the reads go by, so the buffer never grows to a page the file says it has.
        self.spanning = spec.page_size > chunk
        self.current = None if self.algo is None or not self.spanning else self.algo[0]()

    def feed(self, data: memoryview, pos: int) -> None:
        """Hash the pages of ``data``, which starts at range offset ``pos``."""
        spec = self.spec
        end = min(len(data), spec.code_limit - pos)
        if end <= 0 or self.algo is None:
            return
        if self.whole is not None:
            self.whole.update(data[:end])
            return
        if self.spanning:
            self._feed_spanning(data[:end], pos)
            return
        new, keep = self.algo
        ps = spec.page_size
        first_page = pos // ps
        last_page = min(first_page + -(-end // ps), self.n_stored)  # pages with a stored hash
        count = last_page - first_page
        if count <= 0:
            return
        stop = min(end, count * ps)
        if keep == new().digest_size:
            digests = [new(data[o : o + ps]).digest() for o in range(0, stop, ps)]
        else:
            digests = [new(data[o : o + ps]).digest()[:keep] for o in range(0, stop, ps)]
        if stop % ps:  # the short last page is hashed at its real length
            digests[-1] = new(data[stop - stop % ps : stop]).digest()[:keep]
        hs = spec.hash_size
        stored = spec.hashes[first_page * hs : last_page * hs]
        self.checked += count
        if b"".join(digests) == stored:
            return
        for k, digest in enumerate(digests):
            if digest != stored[k * hs : (k + 1) * hs]:
                self.bad += 1
                if self.first_bad is None:
                    self.first_bad = first_page + k

    def _feed_spanning(self, data: memoryview, pos: int) -> None:
        """``feed`` for pages larger than a read: update the current page's hash, and check
        it when the page (or the code limit) ends inside ``data``."""
        assert self.algo is not None and self.current is not None
        new, keep = self.algo
        ps, hs = self.spec.page_size, self.spec.hash_size
        off = 0
        while off < len(data):
            at = pos + off
            page = at // ps
            page_end = min((page + 1) * ps, self.spec.code_limit)
            take = min(len(data) - off, page_end - at)
            self.current.update(data[off : off + take])
            off += take
            if at + take == page_end:  # the page is complete (the last one may be short)
                if page < self.n_stored:
                    self.checked += 1
                    if self.current.digest()[:keep] != self.spec.hashes[page * hs:(page + 1) * hs]:
                        self.bad += 1
                        if self.first_bad is None:
                            self.first_bad = page
                self.current = new()

    def result(self, base: int, read: int) -> PageResult:
        spec = self.spec
        if spec.page_size == 0:
            expected = 1 if spec.code_limit else 0
            ok = (self.whole is not None and spec.code_limit <= read and self.n_stored >= 1
                  and self.whole.digest()[: spec.hash_size] == spec.hashes[: spec.hash_size])
            bad = 0 if ok or expected == 0 else 1
            return PageResult(expected, bad, 0 if bad else None, base if bad else None)
        expected = -(-spec.code_limit // spec.page_size)
        bad, first = self.bad, self.first_bad
        if self.algo is None:
            bad, first = expected, (0 if expected else None)
        else:
            # Pages never read (past EOF) or with no stored hash (nCodeSlots too small) are bad.
            unverified = max(expected - self.checked, 0)
            if unverified:
                first = self.checked if first is None else first
                bad += unverified
        return PageResult(
            pages_checked=expected,
            bad_pages=bad,
            first_bad_page=first,
            first_bad_offset=None if first is None else base + first * spec.page_size,
        )


def verify_pages(fh: BinaryIO, base: int, available: int, specs: Sequence[PageSpec],
                 *, chunk: int = CHUNK,
                 advance: Callable[[int], None] | None = None) -> list[PageResult]:
    """Check the code-slot hashes of ``specs`` against the bytes at ``base`` in ``fh``.

    This is the whole hashing core: one range, some CodeDirectories, no bundle. ``available``
    is how many bytes of the range really exist (a lying codeLimit may point past the end of
    the slice); pages that cannot be read, and pages with no stored hash, count as bad. The
    range is read once, in ``chunk``-sized pieces into one reused buffer, shared by every spec,
    so memory does not grow with the file. ``advance(n)`` is told of every ``n`` bytes read.
    """
    states = [_PageState(spec, chunk) for spec in specs]
    limit = min(max((s.code_limit for s in specs), default=0), available)
    # Reads stay page-aligned for every page that fits in one read; bigger pages span reads.
    largest_page = max((s.page_size for s in specs if s.page_size <= chunk), default=0)
    if largest_page:
        chunk -= chunk % largest_page
    size = chunk
    if limit < chunk:  # small files: a buffer of their size, still a whole number of pages
        size = -(-limit // largest_page) * largest_page if largest_page else limit
    buf = bytearray(max(size, 1))
    view = memoryview(buf)
    fh.seek(base)
    pos = 0
    while pos < limit:
        want = min(len(buf), limit - pos)
        got = read_into(fh, view[:want])
        if got <= 0:
            break
        data = view[:got]
        for state in states:
            state.feed(data, pos)
        pos += got
        if advance is not None:
            advance(got)
        if got < want:
            break
    return [state.result(base, pos) for state in states]


def read_into(fh: BinaryIO, view: memoryview) -> int:
    """Fill ``view`` as far as the file allows (``readinto`` may return short reads)."""
    total = 0
    while total < len(view):
        n = fh.readinto(view[total:])  # type: ignore[attr-defined]
        if not n:
            break
        total += n
    return total


def digest_stream(fh: BinaryIO, algorithm: str, buf: bytearray | None = None) -> bytes:
    """``algorithm`` ("sha256", "sha1") of everything left in ``fh``, read in CHUNK pieces."""
    h = hashlib.new(algorithm)
    buf = buf if buf is not None else bytearray(CHUNK)
    view = memoryview(buf)
    while n := fh.readinto(view):  # type: ignore[attr-defined]
        h.update(view[:n])
    return h.digest()


# --- splitting one slice into page-aligned ranges ---------------------------------------------


@dataclass(frozen=True)
class Piece:
    """One task's share of a slice: ``length`` bytes at ``start`` (relative to the slice),
    ``available`` of them really there, and for each spec it covers, its index in the
    slice's spec list, the page its first page stands for, and the spec cut to this range."""

    start: int
    available: int
    parts: tuple[tuple[int, int, PageSpec], ...]
    whole: bool = False  # the specs that cannot be cut, over the whole range


def _splittable(spec: PageSpec, range_size: int) -> bool:
    ps = spec.page_size
    return 0 < ps <= range_size and ps & (ps - 1) == 0 and spec.hash_size > 0


def split(available: int, specs: Sequence[PageSpec], range_size: int = RANGE) -> list[Piece]:
    """Cut the pages of ``specs`` into page-aligned pieces of ``range_size`` bytes.

    Pieces cover only bytes that exist (no loop is sized by an untrusted codeLimit); pages past
    them are accounted for in :func:`merge`. Specs that cannot be cut (pageSize 0: one hash over
    the whole range; an odd page size) get one piece of their own, read serially.
    """
    pieces: list[Piece] = []
    cut = [(i, s) for i, s in enumerate(specs) if _splittable(s, range_size)]
    whole = [(i, s) for i, s in enumerate(specs) if not _splittable(s, range_size)]
    if whole:
        pieces.append(Piece(0, available, tuple((i, 0, s) for i, s in whole), whole=True))
    if cut:
        step = range_size  # a power of two >= every page size in ``cut``: page-aligned
        limit = min(max(s.code_limit for _, s in cut), max(available, 0))
        for start in range(0, limit, step):
            parts = []
            for i, spec in cut:
                length = min(spec.code_limit - start, step)
                if length <= 0:
                    continue
                first = start // spec.page_size
                hs = spec.hash_size
                n = -(-length // spec.page_size)
                sub = PageSpec(spec.hash_type, spec.page_size, length,
                               spec.hashes[first * hs : (first + n) * hs], hs)
                parts.append((i, first, sub))
            if parts:
                pieces.append(Piece(start, min(available - start, step), tuple(parts)))
    return pieces


def merge(base: int, specs: Sequence[PageSpec], pieces: Sequence[Piece],
          results: Sequence[Sequence[PageResult]]) -> list[PageResult]:
    """Combine the pieces' results into what one serial pass over the slice would give."""
    merged: list[PageResult | None] = [None] * len(specs)
    bad = [0] * len(specs)
    covered = [0] * len(specs)
    first: list[int | None] = [None] * len(specs)
    for piece, piece_results in zip(pieces, results, strict=True):
        for (i, first_page, _), result in zip(piece.parts, piece_results, strict=True):
            if piece.whole:
                merged[i] = result  # a whole-range piece: already the answer
                continue
            bad[i] += result.bad_pages
            covered[i] += result.pages_checked
            if result.first_bad_page is not None:
                page = first_page + result.first_bad_page
                known = first[i]
                first[i] = page if known is None else min(known, page)
    out = []
    for i, spec in enumerate(specs):
        done = merged[i]
        if done is not None:
            out.append(done)
            continue
        expected = expected_pages(spec)
        total_bad, first_bad = bad[i], first[i]
        unverified = expected - covered[i]  # pages past the end of the file: never read
        if unverified > 0:
            total_bad += unverified
            first_bad = covered[i] if first_bad is None else min(first_bad, covered[i])
        out.append(PageResult(
            pages_checked=expected,
            bad_pages=total_bad,
            first_bad_page=first_bad,
            first_bad_offset=None if first_bad is None else base + first_bad * spec.page_size,
        ))
    return out


# --- work run in worker processes (top-level functions: they are pickled by name) --------------


_local = threading.local()


def _buffer() -> bytearray:
    """This thread's reusable read buffer (one per worker: memory does not grow with work)."""
    buf: bytearray | None = getattr(_local, "buf", None)
    if buf is None:
        buf = _local.buf = bytearray(CHUNK)
    return buf


def open_local(file: LocalFile) -> BinaryIO:
    """A worker's open of a file of the input: ``safeopen``, unbuffered (reads go straight
    into the worker's own buffer), checked to be the file the walk saw."""
    return open_binary(file.path, expect=file.identity, buffered=False)


def hash_paths(files: Sequence[LocalFile], algorithm: str) -> list[bytes | OSError]:
    """``algorithm`` digest of each file (an ``OSError`` in its place if it cannot be read)."""
    out: list[bytes | OSError] = []
    buf = _buffer()
    for file in files:
        try:
            with open_local(file) as fh:
                out.append(digest_stream(fh, algorithm, buf))
        except OSError as err:
            out.append(err)
    return out


def pages_at(file: LocalFile, base: int, available: int,
             specs: Sequence[PageSpec]) -> list[PageResult]:
    """:func:`verify_pages` of one piece, the file opened here by path."""
    with open_local(file) as fh:
        return verify_pages(fh, base, available, specs)


# --- the pool ---------------------------------------------------------------------------------


def default_jobs() -> int:
    """The CPUs this process may run on (affinity-aware where the OS says)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_pools: dict[int, ProcessPoolExecutor] = {}
_pool_lock = threading.Lock()


def pool(jobs: int) -> Executor | None:
    """The shared process pool of ``jobs`` workers (``None`` for one job: work runs inline)."""
    if jobs <= 1:
        return None
    import multiprocessing  # here, not at import time: small inputs never start a pool
    from concurrent.futures import ProcessPoolExecutor

    with _pool_lock:
        executor = _pools.get(jobs)
        if executor is None:
            methods = multiprocessing.get_all_start_methods()
            # fork: workers start in milliseconds with bundlelint already imported.
            ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
            executor = _pools[jobs] = ProcessPoolExecutor(jobs, mp_context=ctx)
        return executor


def shutdown() -> None:
    """Stop every worker (tests; the interpreter also does this at exit)."""
    with _pool_lock:
        for executor in _pools.values():
            executor.shutdown(wait=True, cancel_futures=True)
        _pools.clear()


def _discard_broken(executor: Executor) -> None:
    with _pool_lock:
        for jobs, known in list(_pools.items()):
            if known is executor:
                del _pools[jobs]


#: Below this many bytes of regular files in the input, hashing runs in this process. Break-even,
#: measured on the 2-core reference machine: importing multiprocessing and forking the workers
#: costs about 15 ms, one core hashes about 1.2 MB/ms of 4 KiB pages, and two workers save
#: about half of that, so a pool pays for itself from roughly 30 MiB on.
POOL_MIN_BYTES = 32 * 1024 * 1024


def jobs_for(bundle: Bundle) -> int:
    """``--jobs`` as stored on the bundle by ``open_input``, else every CPU; 1 for inputs too
    small to be worth a pool."""
    if _input_bytes(bundle) < POOL_MIN_BYTES:
        return 1
    jobs = getattr(bundle, "jobs", None)
    return jobs if isinstance(jobs, int) and jobs > 0 else default_jobs()


def _input_bytes(bundle: Bundle) -> int:
    return bundle.memo("hashing", "input-bytes", lambda: sum(e.size for e in bundle.entries))


def local_path(bundle: Bundle, entry: Entry) -> LocalFile | None:
    """Where a worker can open ``entry`` itself (a file of a directory or single-file input),
    as the source says; ``None`` for members of archives, which only the source can read."""
    return bundle.source.local_file(entry.relpath)


# --- results, cached per bundle ---------------------------------------------------------------


class _Result(Protocol):
    def get(self) -> object: ...


class _Lazy:
    """Work done in the calling thread when first asked for (``--jobs 1``, zip members)."""

    __slots__ = ("_compute", "_error", "_value")

    def __init__(self, compute: Callable[[], object]) -> None:
        self._compute: Callable[[], object] | None = compute
        self._value: object = None
        self._error: OSError | None = None

    def get(self) -> object:
        if self._compute is not None:
            compute, self._compute = self._compute, None
            try:
                self._value = compute()
            except OSError as err:
                self._error = err
        if self._error is not None:
            raise self._error
        return self._value


class _Batch:
    """One pool task: digests of several files (kept small: there is one per batch, and one
    :class:`_Pooled` of two slots per file, so memory per sealed file stays tiny)."""

    __slots__ = ("executor", "fallback", "future", "value")

    def __init__(self, future: Future[list[Any]], executor: Executor,
                 fallback: Callable[[int], object]) -> None:
        self.future, self.executor, self.fallback = future, executor, fallback
        self.value: list[Any] | None = None  # the task's result, once fetched


class _Pooled:
    """Item ``index`` of a pool task's list result. If the pool broke (a worker killed by the
    OS), the answer is computed inline instead."""

    __slots__ = ("_batch", "_index")

    def __init__(self, batch: _Batch, index: int) -> None:
        self._batch = batch
        self._index = index

    def get(self) -> object:
        batch = self._batch
        values = batch.value
        if values is None:
            from concurrent.futures.process import BrokenProcessPool

            try:
                values = batch.value = batch.future.result()
            except BrokenProcessPool:
                _discard_broken(batch.executor)
                return _Lazy(partial(batch.fallback, self._index)).get()
        value = values[self._index]
        if isinstance(value, OSError):
            raise value
        return value


class _Merged:
    """The pieces of one slice, merged when asked for."""

    def __init__(self, base: int, specs: Sequence[PageSpec], pieces: list[Piece],
                 parts: list[_Result]) -> None:
        self.base, self.specs, self.pieces, self.parts = base, specs, pieces, parts

    def get(self) -> object:
        results = [part.get() for part in self.parts]
        return merge(self.base, self.specs, self.pieces, results)  # type: ignore[arg-type]


#: Memo namespaces of whole-file digests, one shared string per algorithm: the memo key of a
#: file is then (namespace, the entry's own relpath), and 20,000 sealed files add no new
#: strings to memory.
_FILE_NAMESPACES: dict[str, str] = {}


def _file_memo_slot(entry: Entry, algorithm: str) -> tuple[str, str]:
    namespace = _FILE_NAMESPACES.get(algorithm)
    if namespace is None:
        namespace = _FILE_NAMESPACES.setdefault(algorithm, f"hashing:file:{algorithm}")
    return namespace, entry.relpath


def _pages_key(entry: Entry, base: int) -> str:
    return f"pages:{base}:{entry.relpath}"


def _inline_digest(bundle: Bundle, entry: Entry, algorithm: str) -> bytes:
    with bundle.open_entry(entry) as fh:
        return digest_stream(fh, algorithm, _buffer())


def file_digest(bundle: Bundle, entry: Entry, algorithm: str) -> bytes:
    """The ``algorithm`` digest of ``entry``'s bytes, hashed once per bundle.

    Raises ``OSError`` if the file cannot be read or is over ``--max-file-size``."""
    if bundle.skipped(entry):
        raise OSError(errno.EFBIG, f"{entry.display} is over --max-file-size: not read")
    prefetch(bundle)
    result = bundle.memo(*_file_memo_slot(entry, algorithm),
                         lambda: _schedule_files(bundle, [entry], algorithm)[0])
    value = result.get()
    assert isinstance(value, bytes)
    return value


def page_results(bundle: Bundle, entry: Entry, base: int, available: int,
                 specs: Sequence[PageSpec], label: str | None = None) -> list[PageResult]:
    """:func:`verify_pages` of one slice of ``entry`` (``base`` its offset), spread over the
    pool and cached: the result is identical to one serial pass. Raises ``OSError``."""
    prefetch(bundle)
    result = bundle.memo("hashing", _pages_key(entry, base),
                         lambda: _schedule_pages(bundle, entry, base, available, specs, label))
    value = result.get()
    assert isinstance(value, list)
    return value


def _schedule_files(bundle: Bundle, entries: Sequence[Entry], algorithm: str,
                    tracker: _Tracker | None = None) -> list[_Result]:
    """Submit digests of ``entries``, batched; one ``_Result`` per entry, in order."""
    executor = pool(jobs_for(bundle))
    out: list[_Result] = []
    batch: list[Entry] = []
    paths: list[LocalFile] = []
    size = 0

    def flush() -> None:
        nonlocal size, batch, paths
        if not batch:
            return
        assert executor is not None
        if tracker is not None:
            tracker.expect()
        future = executor.submit(hash_paths, paths, algorithm)
        if tracker is not None:
            future.add_done_callback(partial(_finished, tracker, size))
        members = batch
        task = _Batch(future, executor,
                      lambda index: _inline_digest(bundle, members[index], algorithm))
        out.extend(_Pooled(task, index) for index in range(len(batch)))
        batch, paths, size = [], [], 0

    for entry in entries:
        path = local_path(bundle, entry) if executor is not None else None
        if path is None:
            flush()  # keep ``out`` in the order of ``entries``
            out.append(_Lazy(partial(_inline_digest, bundle, entry, algorithm)))
            continue
        if batch and (size + entry.size > BATCH_BYTES or len(batch) >= BATCH_FILES):
            flush()
        batch.append(entry)
        paths.append(path)
        size += entry.size
    flush()
    return out


def _schedule_pages(bundle: Bundle, entry: Entry, base: int, available: int,
                    specs: Sequence[PageSpec], label: str | None = None,
                    tracker: _Tracker | None = None) -> _Result:
    executor = pool(jobs_for(bundle))
    path = local_path(bundle, entry) if executor is not None else None

    def inline() -> list[PageResult]:
        total = min(max((s.code_limit for s in specs), default=0), max(available, 0))
        with progress.task(f"Hashing {label or entry.display}", total) as advance, \
                bundle.open_entry(entry) as fh:
            return verify_pages(fh, base, available, specs, advance=advance)

    if executor is None or path is None:
        return _Lazy(inline)
    pieces = split(available, specs, RANGE)
    parts: list[_Result] = []
    for piece in pieces:
        sub_specs = [sub for _, _, sub in piece.parts]
        if tracker is not None:
            tracker.expect()
        future = executor.submit(_one_list, path, base + piece.start, piece.available,
                                 sub_specs)
        if tracker is not None:
            future.add_done_callback(partial(_finished, tracker, max(piece.available, 0)))
        task = _Batch(future, executor, partial(_inline_piece, bundle, entry, base, piece))
        parts.append(_Pooled(task, 0))
    return _Merged(base, specs, pieces, parts)


def _finished(tracker: _Tracker, n: int, _future: Future[Any]) -> None:
    tracker.done(n)


def _one_list(path: LocalFile, base: int, available: int,
              specs: Sequence[PageSpec]) -> list[list[PageResult]]:
    """:func:`pages_at`, wrapped so that every pool result is a list indexed by ``_Pooled``."""
    return [pages_at(path, base, available, specs)]


def _inline_piece(bundle: Bundle, entry: Entry, base: int, piece: Piece,
                  _index: int = 0) -> list[PageResult]:
    with bundle.open_entry(entry) as fh:
        return verify_pages(fh, base + piece.start, piece.available,
                            [sub for _, _, sub in piece.parts])


# --- prefetch ---------------------------------------------------------------------------------


def prefetch(bundle: Bundle) -> None:
    """Schedule, once per bundle, every hash the analyses will ask for (with a pool only).

    - SHA-256 of every regular file under the seal base of a bundle that has a CodeResources
      file, except Mach-O files in code locations (the seal records those by cdhash): the
      files2 digest the seal check needs, computed before CodeResources is even parsed. A
      SHA-1-only (v1) seal asks for SHA-1 later, on demand.
    - The code pages of every signed slice of every Mach-O that parses.

    Seal files go first: they need no parsing, so the pool starts at once while this thread
    parses the Mach-O files.
    """
    bundle.memo("hashing", "prefetch", lambda: _prefetch(bundle))


class _Tracker:
    """Counts the prefetched tasks still running; shows one progress bar for all of them
    (on a terminal, for big work) and removes it when the last one ends."""

    def __init__(self, description: str) -> None:
        self._lock = threading.Lock()
        self._left = 0
        self._done_bytes = 0
        self._scheduled = False
        self._advance: Callable[[int], None] | None = None
        self._stack = ExitStack()
        self._description = description

    def expect(self) -> None:
        with self._lock:
            self._left += 1

    def done(self, n: int) -> None:
        with self._lock:
            self._left -= 1
            self._done_bytes += n
            if self._advance is not None:
                self._advance(n)
            self._close_if_idle()

    def scheduled(self, total: int) -> None:
        """Everything is submitted: start the bar for what is left."""
        with self._lock:
            self._scheduled = True
            if self._left:
                self._advance = self._stack.enter_context(progress.task(self._description,
                                                                        total))
                self._advance(self._done_bytes)
            self._close_if_idle()

    def _close_if_idle(self) -> None:
        if self._scheduled and self._left == 0:
            self._advance = None
            self._stack.close()


class EarlyHasher:
    """Starts SHA-256 of a sealed directory's files while the walk is still listing them.

    Why: walking 20,000 files takes the main process a fifth of a second, during which the
    workers would otherwise sit idle. Every regular non-Mach-O file of an input whose root
    bundle has a seal is very likely sealed by its SHA-256 (``files2``), so its digest is
    computed speculatively, in the batches :func:`prefetch` would use, from the moment the
    input is known to be big enough for a pool (:data:`POOL_MIN_BYTES`). :meth:`adopt` then
    hands the results to the bundle's memo, where ``prefetch`` and the seal check find them;
    a digest nobody asks for is simply dropped (and cancelled at exit if not started yet).
    Mach-O files are left out: code in code locations is checked by page, not by file hash.
    """

    def __init__(self, root: str, jobs: int, max_file_size: int | None = None) -> None:
        self._root = root
        self._jobs = jobs
        self._max_file_size = max_file_size
        self._seen_bytes = 0
        #: (relpath, identity the walk saw) of the files not yet submitted
        self._pending: list[tuple[str, FileIdentity | None]] = []
        self._pending_bytes = 0
        self._results: dict[str, _Result] = {}

    @classmethod
    def for_input(cls, path: str, jobs: int | None,
                  max_file_size: int | None = None) -> EarlyHasher | None:
        """An early hasher for ``path`` if it is a directory whose root bundle is sealed and
        more than one job may run; else ``None``. Files over ``max_file_size`` are never
        hashed (``--max-file-size`` bounds every read)."""
        jobs = jobs if jobs is not None and jobs > 0 else default_jobs()
        if jobs <= 1 or not os.path.isdir(path):
            return None
        for seal in ("Contents/_CodeSignature/CodeResources", "_CodeSignature/CodeResources"):
            try:
                if stat.S_ISREG(os.lstat(os.path.join(path, seal)).st_mode):
                    return cls(os.fspath(path), jobs, max_file_size)
            except OSError:
                continue
        return None

    def see(self, raw: RawEntry) -> None:
        """Called for every entry the walk finds."""
        if not raw.is_file or raw.error is not None or raw.container is not None:
            return
        if self._max_file_size is not None and raw.size > self._max_file_size:
            return
        self._seen_bytes += raw.size
        if _sniff_macho(raw.head):
            return
        self._pending.append((raw.relpath, raw.identity))
        self._pending_bytes += raw.size
        if self._seen_bytes >= POOL_MIN_BYTES and (self._pending_bytes >= BATCH_BYTES
                                                   or len(self._pending) >= BATCH_FILES):
            self._submit()

    def _submit(self) -> None:
        if not self._pending:
            return
        executor = pool(self._jobs)
        assert executor is not None
        relpaths = [relpath for relpath, _ in self._pending]
        paths = [LocalFile(f"{self._root}/{relpath}", identity)
                 for relpath, identity in self._pending]
        self._pending, self._pending_bytes = [], 0
        future = executor.submit(hash_paths, paths, "sha256")
        task = _Batch(future, executor, partial(_hash_one, paths))
        for index, relpath in enumerate(relpaths):
            self._results[relpath] = _Pooled(task, index)

    def adopt(self, bundle: Bundle) -> int:
        """Give the digests to ``bundle`` (the walk is over); returns how many were started.
        Nothing was started if the input turned out too small for a pool."""
        if self._seen_bytes >= POOL_MIN_BYTES and jobs_for(bundle) == self._jobs:
            self._submit()
        else:
            self._pending.clear()
        from bundlelint.bundle import EntryKind

        plain = (EntryKind.DATA, EntryKind.PLIST, EntryKind.METALLIB)
        for relpath, result in self._results.items():
            entry = bundle.entry(relpath)
            if entry is not None and entry.kind in plain:
                bundle.remember(*_file_memo_slot(entry, "sha256"), result)
        started, self._results = len(self._results), {}  # the bundle holds them now
        return started


def _hash_one(paths: Sequence[LocalFile], index: int) -> bytes:
    """The inline fallback of an early batch whose pool broke: hash one file here."""
    result = hash_paths([paths[index]], "sha256")[0]
    if isinstance(result, OSError):
        raise result
    return result


#: Rule modules whose rules verify seals or code pages, in the order the pool delivers their
#: hashes: file digests first (started during the walk), code pages last. When one of their
#: rules is selected, ``bundlelint check`` starts :func:`prefetch` before any rule runs, and
#: runs these rules after all others, seal before pages, so that the main process does its own
#: work (parsing, certificates, every other rule) while the workers hash, instead of waiting.
HASHING_RULE_MODULES = ("bundlelint.rules.resource_seal", "bundlelint.rules.integrity")


def needs_hashes(check: Callable[..., object]) -> bool:
    """Whether a rule's check function belongs to a module that asks for hashes."""
    return getattr(check, "__module__", None) in HASHING_RULE_MODULES


def hash_stage(check: Callable[..., object]) -> int:
    """When a rule should run: 0 for rules that wait for no hash, then 1, 2... in the order of
    :data:`HASHING_RULE_MODULES`."""
    module = getattr(check, "__module__", None)
    return HASHING_RULE_MODULES.index(module) + 1 if module in HASHING_RULE_MODULES else 0


def _prefetch(bundle: Bundle) -> bool:
    if pool(jobs_for(bundle)) is None:
        return False
    from bundlelint.analysis.codehash import slice_pages
    from bundlelint.bundle import EntryKind
    from bundlelint.layout import Place

    tracker = _Tracker(f"Hashing {bundle.name}")
    sealed = {}
    for layout in bundle.layout.geometries():
        cr = bundle.entry(layout.code_resources)
        if cr is not None and cr.kind not in (EntryKind.DIRECTORY, EntryKind.SYMLINK,
                                              EntryKind.SPECIAL, EntryKind.UNREADABLE):
            sealed[layout.bundle_dir.relpath] = layout
    files = []
    if sealed:
        for entry in bundle.entries:
            if entry.kind not in (EntryKind.DATA, EntryKind.PLIST, EntryKind.METALLIB,
                                  EntryKind.MACHO):
                continue
            owner = sealed.get(bundle.bundle_dir_of(entry.relpath).relpath)
            if (owner is None or not entry.relpath.startswith(owner.base)
                    or entry.relpath == owner.code_resources or bundle.skipped(entry)
                    or (entry.kind is EntryKind.MACHO and entry.place is Place.CODE)
                    or bundle.memoised(*_file_memo_slot(entry, "sha256"))):  # started early
                continue
            files.append(entry)
    files.sort(key=lambda e: -e.size)  # big first: the pool finishes evenly
    total = sum(e.size for e in files)
    results = _schedule_files(bundle, files, "sha256", tracker)
    for entry, result in zip(files, results, strict=True):
        bundle.remember(*_file_memo_slot(entry, "sha256"), result)
    for entry, macho in bundle.machos():
        for base, available, specs, label in slice_pages(entry, macho):
            pages = _schedule_pages(bundle, entry, base, available, specs, label, tracker)
            if isinstance(pages, _Merged):
                total += sum(max(p.available, 0) for p in pages.pieces)
            bundle.remember("hashing", _pages_key(entry, base), pages)
    tracker.scheduled(total)
    from bundlelint.analysis.seal import load_code_resources

    for layout in sealed.values():  # parse the seals while the workers hash
        load_code_resources(bundle, layout)
    return True
