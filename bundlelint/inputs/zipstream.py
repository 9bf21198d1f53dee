"""Zip member data read straight from the archive, inflated as it streams: never to disk.

Why not ``zipfile.ZipFile.open``: its stream is not seekable backwards without inflating again
from the start, it trusts the declared compressed size, and bundlelint used to copy members over
a size into temporary files (a member declaring 1 GiB meant 1 GiB written under ``$TMPDIR``).

Here a member is read from its own span of the archive (checked by
``parsers.zipdir.first_overlap`` before anything is inflated):

- ``measure`` streams each member once, from its first compressed byte, counting the bytes it
  really consumes from the file against the bytes it produces. A member whose real stream
  inflates more than ``max_ratio`` times (once it has produced ``RATIO_MIN_OUTPUT`` bytes) is
  stopped there with ``RatioExceeded``, whatever its central-directory sizes claim. On the way
  it keeps the first bytes (for sniffing), checks the CRC and the real size, and, for large
  deflated members, records checkpoints: the inflater's state (``zlib`` ``copy()``, about
  40 KB each: a 32 KiB window plus zlib's own state) every ``spacing`` bytes of output.
- ``MemberStream`` gives random access over a member: stored data is read in place; compressed
  data is inflated from the nearest checkpoint at or before the position asked for, so a seek
  costs at most ``spacing`` bytes of inflation, and memory holds one read buffer.

Output never goes past the declared uncompressed size (as ``zipfile`` does), so the declared
sizes that the archive limits judged bound every read.
"""

from __future__ import annotations

import bz2
import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, NamedTuple, Protocol

from bundlelint.parsers.randomaccess import RandomAccessReader

STORED = 0
DEFLATED = 8
BZIP2 = 12
SUPPORTED_METHODS = {STORED: "stored", DEFLATED: "deflate", BZIP2: "bzip2"}
#: Compressed bytes read from the archive at a time.
READ_SIZE = 64 * 1024
#: The most output asked of the inflater at once (it keeps the input it did not use).
OUTPUT_STEP = 256 * 1024
#: A member is judged by its real ratio once it has produced this much (tiny files of zeros
#: compress 1000:1 legitimately).
RATIO_MIN_OUTPUT = 1024 * 1024


class RatioExceeded(Exception):
    """A member's real compressed stream inflates past the allowed ratio."""

    def __init__(self, offset: int, produced: int, consumed: int, limit: float) -> None:
        self.offset = offset  # absolute offset of the compressed byte reached
        self.produced = produced
        self.consumed = consumed
        super().__init__(
            f"inflated {produced} bytes from {consumed} compressed bytes "
            f"({produced / max(consumed, 1):.0f}:1, over the {limit:g}:1 limit, "
            f"max_compression_ratio) when stopped at offset {offset}")


class MemberError(Exception):
    """A member's data is corrupt, truncated or in an unsupported method (offset named)."""


@dataclass(frozen=True)
class MemberData:
    """Where a member's data lies and what its central-directory record declares."""

    name: str
    method: int
    data_offset: int  # absolute offset of its first compressed byte
    compress_size: int  # declared (checked to lie inside the member's own span)
    file_size: int  # declared
    crc: int


class Checkpoint(NamedTuple):
    out_pos: int  # uncompressed offset the state resumes at
    in_pos: int  # absolute archive offset of the next compressed byte to feed
    state: zlib._Decompress  # never fed itself: each resume works on a copy


@dataclass
class Measured:
    """What one streaming pass over a member found."""

    head: bytes = b""
    produced: int = 0
    consumed: int = 0
    checkpoints: list[Checkpoint] = field(default_factory=list)


class _Inflater(Protocol):
    eof: bool

    @property
    def needs_input(self) -> bool: ...

    def step(self, data: bytes, max_out: int) -> tuple[bytes, int]: ...


class _Deflate:
    """Raw deflate. ``step`` returns (output, input bytes consumed) exactly."""

    def __init__(self, state: zlib._Decompress | None = None) -> None:
        self.state = state.copy() if state is not None else zlib.decompressobj(-15)
        self.eof = False

    @property
    def needs_input(self) -> bool:
        return True  # it keeps no input of its own: what it did not use comes back

    def step(self, data: bytes, max_out: int) -> tuple[bytes, int]:
        out = self.state.decompress(data, max_out)
        left = len(self.state.unconsumed_tail) + len(self.state.unused_data)
        self.eof = self.state.eof
        return out, len(data) - left


class _Bzip2:
    """bzip2 keeps what it was given; consumption is counted as given, less what was left
    over after the end of the stream (at most one ``READ_SIZE`` more than the truth)."""

    def __init__(self) -> None:
        self.state = bz2.BZ2Decompressor()
        self.eof = False

    @property
    def needs_input(self) -> bool:
        return self.state.needs_input  # it buffers input: give more only when asked

    def step(self, data: bytes, max_out: int) -> tuple[bytes, int]:
        out = self.state.decompress(data, max_out)
        self.eof = self.state.eof
        return out, len(data) - len(self.state.unused_data)


def _inflater(method: int, name: str) -> _Inflater:
    if method == DEFLATED:
        return _Deflate()
    if method == BZIP2:
        return _Bzip2()
    raise MemberError(f"{name}: compression method {method} is not supported "
                      f"(only {', '.join(SUPPORTED_METHODS.values())})")


class _Cursor:
    """One pass of inflation from a known state: the compressed bytes still to feed, where in
    the archive they are, and how far the output has got."""

    def __init__(self, fh: BinaryIO, member: MemberData, start: Checkpoint | None) -> None:
        self.fh = fh
        self.member = member
        self.end = member.data_offset + member.compress_size
        if start is None:
            self.inflater: _Inflater = _inflater(member.method, member.name)
            self.in_pos = member.data_offset
            self.out_pos = 0
        else:
            self.inflater = _Deflate(start.state)
            self.in_pos = start.in_pos
            self.out_pos = start.out_pos
        self.pending = b""  # read from the archive, not yet consumed by the inflater
        self.pending_at = self.in_pos

    def next_chunk(self, max_out: int) -> bytes:
        """Up to ``max_out`` more bytes of output (never past the declared size); ``b""`` only
        at the declared end. Raises ``MemberError`` for a stream that is corrupt, ends early
        or needs more compressed bytes than the member's span holds."""
        member = self.member
        max_out = min(max_out, member.file_size - self.out_pos)
        if max_out <= 0:
            return b""
        while True:
            if (not self.pending and not self.inflater.eof and self.inflater.needs_input
                    and self.pending_at < self.end):
                self.fh.seek(self.pending_at)
                self.pending = self.fh.read(min(READ_SIZE, self.end - self.pending_at))
                if not self.pending:
                    raise MemberError(f"{member.name}: the archive ends at offset "
                                      f"{self.pending_at}, inside the member's data")
            try:
                out, used = self.inflater.step(self.pending, max_out)
            except (zlib.error, OSError, EOFError, ValueError) as exc:
                raise MemberError(f"{member.name}: corrupt compressed data near offset "
                                  f"{self.pending_at}: {exc}") from None
            self.pending = self.pending[used:]
            self.pending_at += used
            self.in_pos = self.pending_at
            if out:
                self.out_pos += len(out)
                return out
            if self.inflater.eof or (not self.pending and self.pending_at >= self.end
                                     and self.inflater.needs_input):
                raise MemberError(
                    f"{member.name}: the compressed data ends at offset {self.pending_at} "
                    f"after {self.out_pos} of the {member.file_size} bytes it declares")
            if used == 0 and self.pending:  # no progress on input it was given: not deflate
                raise MemberError(f"{member.name}: the compressed data stalls at offset "
                                  f"{self.pending_at}")

    def checkpoint(self) -> Checkpoint | None:
        """The current state, resumable later (deflate only)."""
        if not isinstance(self.inflater, _Deflate):
            return None
        return Checkpoint(self.out_pos, self.pending_at, self.inflater.state.copy())


def measure(fh: BinaryIO, member: MemberData, *, max_ratio: float, keep: int,
            spacing: int | None) -> Measured:
    """Stream ``member`` once, measuring its real ratio; keep its first ``keep`` bytes and,
    with ``spacing``, checkpoints every ``spacing`` bytes of output. Raises ``RatioExceeded``
    (as soon as it is known) or ``MemberError`` (corrupt data, wrong size or CRC)."""
    found = Measured()
    cursor: _Cursor | None = None
    stored: StoredSlice | None = None
    if member.method == STORED:
        if member.compress_size != member.file_size:
            raise MemberError(f"{member.name}: stored member declares {member.file_size} bytes "
                              f"but {member.compress_size} bytes of data")
        stored = StoredSlice(fh, member.data_offset, member.file_size)
        found.consumed = member.file_size
    else:
        cursor = _Cursor(fh, member, None)

    def reader(n: int) -> bytes:
        if cursor is not None:
            return cursor.next_chunk(n)
        assert stored is not None
        return stored.read(n) or b""

    crc = 0
    head = bytearray()
    next_mark = spacing
    while True:
        step = OUTPUT_STEP
        if next_mark is not None and cursor is not None:
            step = min(step, next_mark - found.produced)
        try:
            out = reader(step)
        except OSError as exc:
            raise MemberError(f"{member.name}: cannot read: {exc}") from None
        if not out:
            break
        found.produced += len(out)
        crc = zlib.crc32(out, crc)
        if len(head) < keep:
            head += out[: keep - len(head)]
        if cursor is not None:
            found.consumed = cursor.in_pos - member.data_offset
            if (found.produced >= RATIO_MIN_OUTPUT
                    and found.produced > max_ratio * max(found.consumed, 1)):
                raise RatioExceeded(cursor.in_pos, found.produced, found.consumed, max_ratio)
            if spacing is not None and next_mark is not None and found.produced == next_mark:
                mark = cursor.checkpoint()
                if mark is not None:
                    found.checkpoints.append(mark)
                next_mark += spacing
    if found.produced != member.file_size:
        raise MemberError(f"{member.name}: holds {found.produced} bytes, not the "
                          f"{member.file_size} it declares")
    if crc != member.crc:
        raise MemberError(f"{member.name}: CRC-32 {crc:08x} does not match the declared "
                          f"{member.crc:08x}")
    found.head = bytes(head)
    return found


class _MemberStream(RandomAccessReader):
    """A read-only, seekable view of one member of ``size`` bytes (the two member streams
    differ only in how ``readinto`` finds the bytes)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size

    def _length(self) -> int:
        return self._size

    def _negative_position(self, pos: int) -> int:
        raise OSError(f"negative seek position {pos}")


class StoredSlice(_MemberStream):
    """A stored member: a window of the archive file, read in place."""

    def __init__(self, fh: BinaryIO, offset: int, size: int) -> None:
        super().__init__(size)
        self._fh = fh
        self._offset = offset

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        n = max(min(len(view), self._size - self._pos), 0)
        if n == 0:
            return 0
        self._fh.seek(self._offset + self._pos)
        got = self._fh.readinto(view[:n])  # type: ignore[attr-defined]
        if not got:
            raise OSError(f"the archive ends inside a stored member at offset "
                          f"{self._offset + self._pos}")
        self._pos += got
        return int(got)


class InflatingStream(_MemberStream):
    """A compressed member with random access: reads inflate from the nearest checkpoint at or
    before the position (the member's start when there is none); reading on from where the
    last read stopped inflates nothing twice. Holds one cursor, never the member."""

    def __init__(self, fh: BinaryIO, member: MemberData,
                 checkpoints: Sequence[Checkpoint] = ()) -> None:
        super().__init__(member.file_size)
        self._fh = fh
        self._member = member
        self._checkpoints = checkpoints
        self._cursor: _Cursor | None = None

    def _cursor_at(self, pos: int) -> _Cursor:
        cursor = self._cursor
        start = None
        for mark in self._checkpoints:  # few (bounded by the caller's budget)
            if mark.out_pos <= pos:
                start = mark
        nearest = start.out_pos if start is not None else 0
        # Resume from the nearest checkpoint unless the current cursor is already closer.
        if cursor is None or cursor.out_pos > pos or cursor.out_pos < nearest:
            cursor = self._cursor = _Cursor(self._fh, self._member, start)
        while cursor.out_pos < pos:  # inflate and drop up to the position
            if not cursor.next_chunk(min(OUTPUT_STEP, pos - cursor.out_pos)):
                break
        return cursor

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._pos >= self._member.file_size or not len(view):
            return 0
        try:
            cursor = self._cursor_at(self._pos)
            out = cursor.next_chunk(len(view))
        except MemberError as exc:
            raise OSError(str(exc)) from None
        view[: len(out)] = out
        self._pos += len(out)
        return len(out)


def read_exactly(stream: io.RawIOBase, size: int) -> bytes:
    """``size`` bytes from ``stream`` (fewer only at its end): raw reads may come back short."""
    out = bytearray()
    while len(out) < size:
        chunk = stream.read(min(size - len(out), OUTPUT_STEP))
        if not chunk:
            break
        out += chunk
    return bytes(out)
