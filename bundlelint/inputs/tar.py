"""Tar archives nested in an input (``.tar``, ``.tar.gz``, ``.tgz``): their Mach-O members,
found and read without extracting anything.

Why: the notary unpacks the archives it finds and judges the code inside them, so an unsigned
dylib in ``Resources/tools.tar.gz`` is rejected like one lying loose. The archive is read with
``tarfile`` over a decompressing stream that bundlelint bounds itself (``_Capped``): the bytes
it may produce (the compression-ratio and total-size limits of the zip input), the size of any
single read (``tarfile`` reads a pax or GNU long-name header whole, as long as it claims), and
the members walked. Nothing is written anywhere.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import stat
import tarfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from bundlelint.inputs.source import SNIFF_BYTES

GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
#: What reading a hostile tar stream can raise.
TAR_ERRORS = (tarfile.TarError, OSError, EOFError, ValueError, zlib.error, lzma.LZMAError,
              UnicodeDecodeError)


def looks_like_tar(relpath: str, head: bytes) -> bool:
    """A tar archive by name (``.tar``, ``.tar.gz``, ``.tgz``); the compressed forms must also
    start with gzip's magic."""
    name = relpath.rpartition("/")[2].lower()
    if name.endswith((".tar.gz", ".tgz")):
        return head.startswith(GZIP_MAGIC)
    return name.endswith(".tar")


class Limits(NamedTuple):
    """How much one archive may expand to, and the largest single read allowed."""

    expanded: int  # bytes of tar stream (headers and data) that may be produced
    single_read: int
    members: int
    why: str = "the size limit"  # which limit ``expanded`` is, for the finding


class TarRefused(Exception):
    """The archive went past a limit; ``offset`` is the position in the tar stream."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


class _Capped:
    """The decompressed tar stream, refusing to go past ``limits`` (as ``TarRefused``)."""

    def __init__(self, inner: BinaryIO, limits: Limits) -> None:
        self._inner = inner
        self._limits = limits
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self._limits.single_read:
            raise TarRefused(f"a single read of {size} bytes is over the "
                             f"{self._limits.single_read} byte limit (a header claiming "
                             "that much)", self._pos)
        if self._pos + size > self._limits.expanded:
            raise TarRefused(f"expands past {self._limits.expanded} bytes "
                             f"({self._limits.why})", self._pos)
        data = self._inner.read(size)
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0:
            raise OSError("tar streams are only seeked to absolute offsets")
        if offset > self._limits.expanded:
            raise TarRefused(f"a member ends past {self._limits.expanded} bytes "
                             f"({self._limits.why})", self._pos)
        self._pos = self._inner.seek(offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


def _decompressing(fh: BinaryIO, head: bytes) -> BinaryIO:
    if head.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[return-value]
    if head.startswith(BZIP2_MAGIC):
        return bz2.BZ2File(fh)  # type: ignore[return-value]
    if head.startswith(XZ_MAGIC):
        return lzma.LZMAFile(fh)  # type: ignore[return-value]
    return fh


class TarMember(NamedTuple):
    name: str
    size: int
    mode: int
    head: bytes
    position: int  # its header's place in the archive (a name may be stored more than once)


def _safe_name(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and ".." not in parts and "\0" not in name


def _open(fh: BinaryIO, head: bytes, limits: Limits) -> tarfile.TarFile:
    capped = _Capped(_decompressing(fh, head), limits)
    opened: tarfile.TarFile = tarfile.open(  # type: ignore[call-overload]  # noqa: SIM115
        fileobj=capped, mode="r:")  # the caller closes it
    return opened


def _headers(tf: tarfile.TarFile, limits: Limits) -> Iterator[tarfile.TarInfo]:
    """Every member header, in order, none kept (``tarfile`` keeps them all otherwise)."""
    for count in range(limits.members + 1):
        info = tf.next()
        if info is None:
            return
        if count == limits.members:
            raise TarRefused(f"has more than {limits.members} members", info.offset)
        tf.members.clear()  # type: ignore[attr-defined]
        yield info


def scan(fh: BinaryIO, head: bytes, limits: Limits, max_member: int,
         sniff: int = SNIFF_BYTES) -> tuple[list[TarMember], int]:
    """The regular members of the tar archive in ``fh`` (whose first bytes are ``head``) up
    to ``max_member`` bytes, each with its first ``sniff`` bytes, and how many bytes of tar
    stream that took. A name stored twice is the last one (as ``tar -x`` leaves it). Raises
    ``TarRefused`` past a limit, or one of ``TAR_ERRORS`` if the archive is damaged."""
    found: dict[str, TarMember] = {}
    with _open(fh, head, limits) as tf:
        for position, info in enumerate(_headers(tf, limits)):
            found.pop(info.name, None)  # a later header of the name replaces the file
            if not info.isreg() or not _safe_name(info.name) or not 0 < info.size <= max_member:
                continue
            member = tf.extractfile(info)
            if member is None:
                continue
            with member:
                found[info.name] = TarMember(info.name, info.size,
                                             stat.S_IFREG | (stat.S_IMODE(info.mode) or 0o644),
                                             member.read(sniff), position)
        produced = tf.offset
    return list(found.values()), produced


def read_member(fh: BinaryIO, head: bytes, limits: Limits, member: TarMember,
                max_member: int) -> bytes:
    """The bytes of ``member`` (as :func:`scan` listed it: the header at its index), found
    again from the start."""
    name = member.name
    with _open(fh, head, limits) as tf:
        for position, info in enumerate(_headers(tf, limits)):
            if position < member.position:
                continue
            if info.name == name and info.isreg() and 0 < info.size <= max_member:
                stream = tf.extractfile(info)
                if stream is not None:
                    with stream:
                        data: bytes = stream.read(info.size)
                        return data
            break
    raise FileNotFoundError(f"{name}: no such member")
