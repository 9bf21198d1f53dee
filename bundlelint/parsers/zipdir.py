"""The size of a zip's central directory, counted before ``zipfile`` is allowed to load it.

Why: ``zipfile.ZipFile`` reads the whole central directory into memory and builds one
``ZipInfo`` (about half a kilobyte) per record, however many the file holds. Its loop is bounded
by the directory size the end record claims, not by the entry count, so a 500 MB upload of
minimal records would make millions of objects. This module finds the end record (and the zip64
one) as ``zipfile`` does, then walks the record headers in fixed-size reads, stopping as soon
as the count passes the caller's limit: memory stays constant whatever the file says.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import BinaryIO, NamedTuple

from bundlelint.errors import ParseError

FORMAT = "zip"
_EOCD = struct.Struct("<4s4H2LH")  # signature, disk, cd disk, entries here, entries, size, offset
_EOCD_SIG = b"PK\x05\x06"
_LOCATOR = struct.Struct("<4sLQL")  # zip64 end locator: signature, disk, record offset, disks
_LOCATOR_SIG = b"PK\x06\x07"
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # zip64 end record (fixed part)
_EOCD64_SIG = b"PK\x06\x06"
_RECORD = struct.Struct("<4s6H3L5H2L")  # central directory file header (fixed part, 46 bytes)
_RECORD_SIG = b"PK\x01\x02"
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header (fixed part, 30 bytes)
_LOCAL_SIG = b"PK\x03\x04"
#: The end record lies in the last 22 bytes plus at most a 65,535-byte comment.
_TAIL = _EOCD.size + 0xFFFF
#: Record headers are read in pieces of this many bytes: the scan never holds more.
_READ = 1 << 16


@dataclass(frozen=True)
class CentralDirectory:
    """What the end records say and what is really there (up to the limit)."""

    declared_entries: int  # the end record's total (zip64 when present)
    offset: int  # absolute file offset of the first record
    size: int  # bytes of records the end record claims
    counted: int  # records found by walking their headers (stops past the limit)
    #: Why the walk over the records stopped early (a header missing or cut short), with the
    #: offset in the message; ``None`` when it reached the end or the limit.
    problem: str | None = None
    #: Each record's name exactly as stored (asked for with ``names=True``). ``zipfile`` cuts a
    #: name at its first NUL byte; these bytes are not cut.
    names: tuple[bytes, ...] = ()


def _find_end(fh: BinaryIO, file_size: int, path: str) -> tuple[int, tuple[int, ...]]:
    """(offset, fields) of the end-of-central-directory record, searched from the end."""
    start = max(file_size - _TAIL, 0)
    fh.seek(start)
    tail = fh.read(file_size - start)
    at = tail.rfind(_EOCD_SIG)
    while at != -1 and len(tail) - at < _EOCD.size:
        at = tail.rfind(_EOCD_SIG, 0, at)
    if at == -1:
        raise ParseError(FORMAT, path, None, "no end-of-central-directory record")
    return start + at, _EOCD.unpack_from(tail, at)


def _zip64_end(fh: BinaryIO, eocd_at: int, path: str) -> tuple[int, int, int] | None:
    """(entries, size, offset) from the zip64 end record, if a locator precedes the end record."""
    if eocd_at < _LOCATOR.size:
        return None
    fh.seek(eocd_at - _LOCATOR.size)
    sig, _disk, _record_at, _disks = _LOCATOR.unpack(fh.read(_LOCATOR.size))
    if sig != _LOCATOR_SIG:
        return None
    where = eocd_at - _LOCATOR.size - _EOCD64.size  # where zipfile expects it
    if where < 0:
        return None
    fh.seek(where)
    raw = fh.read(_EOCD64.size)
    if len(raw) < _EOCD64.size or not raw.startswith(_EOCD64_SIG):
        return None  # as zipfile does: the 32-bit end record's values stand
    fields = _EOCD64.unpack(raw)
    return fields[7], fields[8], where  # total entries, directory size; its own offset


def scan_central_directory(fh: BinaryIO, file_size: int, path: str,
                           limit: int, *, names: bool = False) -> CentralDirectory:
    """Find the central directory of the zip in ``fh`` and count its records, reading at most
    ``limit + 1`` headers (and, with ``names``, each record's raw name). Raises ``ParseError``
    (with the offset of the lying field) when there is no end record or the directory cannot
    fit before it; a record header that is not where the previous one says ends the count with
    ``problem`` set."""
    eocd_at, fields = _find_end(fh, file_size, path)
    entries, size = fields[4], fields[5]  # total entries, directory size
    end_of_directory = eocd_at
    zip64 = _zip64_end(fh, eocd_at, path)
    if zip64 is not None:
        entries, size, end_of_directory = zip64
    # Like zipfile: the directory ends where the end records begin (data may be prepended).
    start = end_of_directory - size
    if start < 0:
        raise ParseError(FORMAT, path, eocd_at,
                         f"central directory of {size} bytes does not fit before offset "
                         f"{end_of_directory}")
    counted = 0
    pos = start
    buf = b""
    buf_at = start
    found: list[bytes] = []
    while pos < end_of_directory and counted <= limit:
        need = pos + _RECORD.size - buf_at
        if need > len(buf):
            fh.seek(pos)
            buf, buf_at = fh.read(max(_READ, _RECORD.size)), pos
        header = buf[pos - buf_at : pos - buf_at + _RECORD.size]
        if len(header) < _RECORD.size or not header.startswith(_RECORD_SIG):
            return CentralDirectory(entries, start, size, counted,
                                    f"no central directory record at offset {pos}",
                                    tuple(found))
        fields = _RECORD.unpack(header)
        name_len, extra_len, comment_len = fields[10], fields[11], fields[12]
        if names:
            name_at = pos + _RECORD.size - buf_at
            if name_at + name_len <= len(buf):
                found.append(buf[name_at : name_at + name_len])
            else:  # the name runs past this read: fetch it alone (at most 65,535 bytes)
                fh.seek(pos + _RECORD.size)
                found.append(fh.read(name_len))
        pos += _RECORD.size + name_len + extra_len + comment_len
        counted += 1
    return CentralDirectory(declared_entries=entries, offset=start, size=size, counted=counted,
                            names=tuple(found))


@dataclass(frozen=True)
class LocalHeader:
    """The local file header in front of a member's data."""

    offset: int  # absolute offset of the header
    name: bytes  # the name it repeats (it should equal the central directory's)
    data_offset: int  # absolute offset of the member's first data byte


def read_local_header(fh: BinaryIO, offset: int, file_size: int, path: str) -> LocalHeader:
    """The local header at ``offset`` (taken from the central directory, so untrusted): read
    in two bounded pieces, the fixed part and the name. Raises ``ParseError`` naming the offset
    when there is no header there or it runs past the end of the file."""
    if offset < 0 or offset + _LOCAL.size > file_size:
        raise ParseError(FORMAT, path, offset,
                         f"local header at offset {offset} lies outside the {file_size}-byte file")
    fh.seek(offset)
    raw = fh.read(_LOCAL.size)
    if len(raw) < _LOCAL.size or not raw.startswith(_LOCAL_SIG):
        raise ParseError(FORMAT, path, offset, f"no local file header at offset {offset}")
    fields = _LOCAL.unpack(raw)
    name_len, extra_len = fields[9], fields[10]
    data_offset = offset + _LOCAL.size + name_len + extra_len
    if data_offset > file_size:
        raise ParseError(FORMAT, path, offset,
                         f"local header at offset {offset} runs past the end of the file")
    name = fh.read(name_len)
    return LocalHeader(offset, name, data_offset)


class Span(NamedTuple):
    """The bytes one member occupies: its local header through the end of its data."""

    start: int  # the local header's offset
    end: int  # one past the member's last compressed byte, as its sizes declare
    label: str  # how findings name the member


def first_overlap(spans: Sequence[Span], directory_offset: int) -> tuple[int, str] | None:
    """(offset, why) for the first member whose bytes overlap another's or run into the central
    directory, or ``None`` when every member lies in a span of its own.

    Why: an archive whose members share their data (David Fifield's "better zip bomb": every
    local header points into one shared, highly compressed kernel) declares modest compressed
    sizes that add up to far more than the file holds, so any ratio over declared sizes is
    fooled. ``zip`` writers lay members out one after another; none shares bytes."""
    ordered = sorted(spans)
    for prev, nxt in pairwise(ordered):
        if nxt.start < prev.end:
            return nxt.start, (
                f"member {nxt.label!r} (local header at offset {nxt.start}) lies inside member "
                f"{prev.label!r}, whose header at offset {prev.start} and data run to offset "
                f"{prev.end}: members overlap")
    if ordered and ordered[-1].end > directory_offset:
        last = ordered[-1]
        return last.start, (
            f"member {last.label!r} (local header at offset {last.start}) declares data up to "
            f"offset {last.end}, past the start of the central directory at offset "
            f"{directory_offset}")
    return None
