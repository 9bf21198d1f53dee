"""cpio archives (an installer package's Payload and Scripts) read as a ``Volume`` in place.

Formats (POSIX ``pax``/SUSv2 "cpio Interchange Format" for odc; the SVR4 "newc" layout;
docs/formats.md 13.1):

- odc, magic ``070707``: a 76-byte header of octal fields (dev 6, ino 6, mode 6, uid 6, gid 6,
  nlink 6, rdev 6, mtime 11, namesize 6, filesize 11), the name (``namesize`` bytes with its
  NUL), then the data; no padding. ``pkgbuild`` and ``ditto`` write it.
- newc ``070701`` (and ``070702`` with a checksum): a 110-byte header of 13 eight-digit hex
  fields (ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
  rdevminor, namesize, check); the name and the data are each padded to 4 bytes.
- the archive ends with an entry named ``TRAILER!!!``.

Names start with ``./`` (``pkgbuild``); a symlink's data is its target. A newc hard link
carries its data only on the last link of an inode: earlier links take it from there.

Bounds: every size is checked against the bytes that really decode (a header claiming 2^40
bytes in a 1 MB payload ends with a ``ParseError`` at that header, after decoding only what
is there), names are at most ``MAX_NAME`` bytes, entries at most ``MAX_ENTRIES``, nesting at
most ``MAX_DEPTH``. Nothing is extracted.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from bundlelint.errors import ParseError
from bundlelint.parsers.decoded import ByteSource, SourceReader, Window
from bundlelint.parsers.volume import Node, NodeKind

FMT = "cpio archive"
ODC = b"070707"
NEWC = b"070701"
NEWC_CRC = b"070702"
ODC_SIZE = 76
NEWC_SIZE = 110
TRAILER = "TRAILER!!!"
MAX_NAME = 4096
MAX_ENTRIES = 1_000_000
MAX_DEPTH = 128
MAX_LINK = 4096


@dataclass(frozen=True)
class CpioEntry:
    path: str
    mode: int
    size: int
    data_pos: int  # position of the data in the decoded payload
    header_pos: int
    ino: tuple[int, int]  # (dev, ino)
    nlink: int
    link_target: str | None
    error: str | None = None


_OCTAL = frozenset(b"01234567")
_HEX = frozenset(b"0123456789abcdefABCDEF")


def _octal(raw: bytes) -> int | None:
    """Octal digits only (``int`` would also take a sign, spaces and underscores)."""
    return int(raw, 8) if raw and set(raw) <= _OCTAL else None


def _hex(raw: bytes) -> int | None:
    return int(raw, 16) if raw and set(raw) <= _HEX else None


def _clean(name: str) -> tuple[str, str | None]:
    """``./a/b`` -> ``a/b``; a ``..`` component or an absolute path is refused."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        safe = "/".join("_dotdot_" if p == ".." else p for p in parts)
        return safe, f"the name {name!r} has a '..' component"
    return "/".join(parts), None


class CpioVolume:
    """The entries of a cpio archive held in ``source`` (decoded bytes, random access)."""

    def __init__(self, source: ByteSource, name: str = "Payload", *,
                 max_entries: int = MAX_ENTRIES) -> None:
        self.source = source
        self.name = name
        self.max_entries = max_entries
        self.format: str | None = None
        self._entries: list[CpioEntry] | None = None
        self._by_path: dict[str, CpioEntry] = {}

    def _error(self, pos: int, reason: str) -> ParseError:
        return ParseError(FMT, self.source.path, self.source.base,
                          f"{self.name} byte {pos}: {reason}")

    def entries(self) -> list[CpioEntry]:
        if self._entries is None:
            self._entries = list(self._scan())
            for entry in self._entries:
                self._by_path[entry.path] = entry
            self._resolve_newc_links()
        return self._entries

    def _scan(self) -> Iterator[CpioEntry]:
        pos = 0
        count = 0
        while True:
            magic = self.source.read_at(pos, 6)
            if len(magic) < 6:
                raise self._error(pos, "the archive ends without a TRAILER!!! entry")
            if magic == ODC:
                entry, pos = self._odc(pos)
                self.format = self.format or "odc"
            elif magic in (NEWC, NEWC_CRC):
                entry, pos = self._newc(pos)
                self.format = self.format or "newc"
            else:
                raise self._error(pos, f"no cpio header magic here ({magic!r})")
            if entry is None:
                return
            count += 1
            if count > self.max_entries:
                raise self._error(entry.header_pos, f"more than {self.max_entries} entries")
            yield entry

    def _header(self, pos: int, size: int) -> bytes:
        raw = self.source.read_at(pos, size)
        if len(raw) < size:
            raise self._error(pos, f"truncated cpio header ({len(raw)} of {size} bytes)")
        return raw

    def _name(self, pos: int, namesize: int, header_pos: int) -> str:
        if namesize < 1 or namesize > MAX_NAME:
            raise self._error(header_pos, f"name size {namesize} is out of range (1..{MAX_NAME})")
        raw = self.source.read_at(pos, namesize)
        if len(raw) < namesize:
            raise self._error(header_pos, "the archive ends inside an entry's name")
        if raw[-1:] != b"\0":
            raise self._error(header_pos, "an entry's name is not NUL-terminated")
        return raw[:-1].decode("utf-8", errors="surrogateescape")

    def _check_data(self, header_pos: int, data_pos: int, size: int, name: str) -> None:
        """The data must really be there: read its last byte (decodes up to it, no further)."""
        if size and len(self.source.read_at(data_pos + size - 1, 1)) != 1:
            raise self._error(header_pos, f"{name!r} claims {size} bytes of data but the "
                              "archive ends before them")

    def _odc(self, pos: int) -> tuple[CpioEntry | None, int]:
        raw = self._header(pos, ODC_SIZE)
        fields = [_octal(raw[a:b]) for a, b in ((6, 12), (12, 18), (18, 24), (24, 30),
                  (30, 36), (36, 42), (42, 48), (48, 59), (59, 65), (65, 76))]
        if any(f is None for f in fields):
            raise self._error(pos, "an odc header field is not octal")
        dev, ino, mode, _uid, _gid, nlink, _rdev, _mtime, namesize, filesize = \
            [int(f or 0) for f in fields]
        name = self._name(pos + ODC_SIZE, namesize, pos)
        data_pos = pos + ODC_SIZE + namesize
        if name == TRAILER:
            return None, data_pos
        self._check_data(pos, data_pos, filesize, name)
        return self._entry(name, mode, filesize, data_pos, pos, (dev, ino), nlink), \
            data_pos + filesize

    def _newc(self, pos: int) -> tuple[CpioEntry | None, int]:
        raw = self._header(pos, NEWC_SIZE)
        fields = [_hex(raw[6 + 8 * i: 14 + 8 * i]) for i in range(13)]
        if any(f is None for f in fields):
            raise self._error(pos, "a newc header field is not hexadecimal")
        ino, mode, _uid, _gid, nlink, _mtime, filesize, devmajor, devminor, _rmaj, _rmin, \
            namesize, _check = [int(f or 0) for f in fields]
        name = self._name(pos + NEWC_SIZE, namesize, pos)
        data_pos = _align4(pos + NEWC_SIZE + namesize)
        if name == TRAILER:
            return None, data_pos
        self._check_data(pos, data_pos, filesize, name)
        return self._entry(name, mode, filesize, data_pos, pos, ((devmajor << 32) | devminor,
                           ino), nlink), _align4(data_pos + filesize)

    def _entry(self, name: str, mode: int, size: int, data_pos: int, header_pos: int,
               ino: tuple[int, int], nlink: int) -> CpioEntry:
        path, error = _clean(name)
        if path.count("/") >= MAX_DEPTH:
            raise self._error(header_pos, f"{name[:80]!r}... is nested deeper than {MAX_DEPTH}")
        target = None
        if stat.S_ISLNK(mode):
            if size > MAX_LINK:
                error = error or f"a symlink target of {size} bytes"
            else:
                target = self.source.read_at(data_pos, size).decode("utf-8",
                                                                    errors="surrogateescape")
        return CpioEntry(path, mode, size, data_pos, header_pos, ino, nlink, target, error)

    def _resolve_newc_links(self) -> None:
        """newc hard links: a zero-size link of an inode whose last link has the data."""
        if self.format != "newc" or self._entries is None:
            return
        holder: dict[tuple[int, int], CpioEntry] = {}
        for entry in self._entries:
            if entry.nlink > 1 and entry.size and stat.S_ISREG(entry.mode):
                holder[entry.ino] = entry
        for i, entry in enumerate(self._entries):
            full = holder.get(entry.ino)
            if entry.nlink > 1 and not entry.size and full is not None and \
                    stat.S_ISREG(entry.mode):
                fixed = CpioEntry(entry.path, entry.mode, full.size, full.data_pos,
                                  entry.header_pos, entry.ino, entry.nlink, None, entry.error)
                self._entries[i] = fixed
                self._by_path[entry.path] = fixed

    def walk(self) -> Iterator[Node]:
        seen_dirs: set[str] = {""}
        for entry in self.entries():
            if not entry.path:
                continue  # the root "."
            parent = entry.path.rpartition("/")[0]
            missing: list[str] = []
            while parent not in seen_dirs:
                missing.append(parent)
                parent = parent.rpartition("/")[0]
            for directory in reversed(missing):  # implied directories, parents first
                seen_dirs.add(directory)
                yield Node(directory, NodeKind.DIRECTORY, 0, 0o040755, None, None, None)
            kind = _kind(entry.mode)
            if kind is NodeKind.DIRECTORY:
                if entry.path in seen_dirs:
                    continue
                seen_dirs.add(entry.path)
            yield Node(entry.path, kind, entry.size if kind is NodeKind.FILE else 0,
                       entry.mode, entry.link_target, entry.header_pos, entry.error)

    def entry(self, path: str) -> CpioEntry | None:
        self.entries()
        return self._by_path.get(path)

    def read(self, path: str, offset: int = 0, n: int = -1) -> bytes:
        entry = self.entry(path)
        if entry is None or not stat.S_ISREG(entry.mode):
            raise ParseError(FMT, self.source.path, self.source.base,
                             f"{self.name}: no regular file {path!r}")
        n = entry.size - offset if n < 0 else min(n, entry.size - offset)
        return self.source.read_at(entry.data_pos + offset, max(n, 0))

    def open(self, path: str) -> BinaryIO:
        entry = self.entry(path)
        if entry is None or not stat.S_ISREG(entry.mode):
            raise ParseError(FMT, self.source.path, self.source.base,
                             f"{self.name}: no regular file {path!r}")
        return SourceReader(Window(self.source, entry.data_pos, entry.size))  # type: ignore[return-value]


def _align4(n: int) -> int:
    return (n + 3) & ~3


def _kind(mode: int) -> NodeKind:
    if stat.S_ISREG(mode):
        return NodeKind.FILE
    if stat.S_ISDIR(mode):
        return NodeKind.DIRECTORY
    if stat.S_ISLNK(mode):
        return NodeKind.SYMLINK
    return NodeKind.OTHER
