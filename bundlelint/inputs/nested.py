"""Mach-O files inside archives nested in the bundle (a .jar or .zip in Resources), as entries.

Apple's notary opens nested archives and rejects unsigned code inside them (its log names them
as ``.../Resources/lib.jar/native/libfoo.dylib``). ``NestedArchiveSource`` wraps any other
source: it passes the inner entries through and adds one entry per Mach-O member of every zip
format file it finds, with the relpath ``<archive relpath>/<member name>``, opened through the
nested zip in memory. The rules then judge that code like any other (an unsigned dylib in a jar
fires BL201). Only Mach-O members become entries, so class files and resources inside jars do
not show up as files of the bundle.

Bounded: one level deep, archives up to ``MAX_NESTED_ARCHIVE`` bytes, at most
``MAX_MEMBERS_SCANNED`` members per archive, members up to ``MAX_NESTED_MEMBER`` bytes and
within the compression-ratio limit. Nothing is written anywhere.
"""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

from bundlelint.inputs.source import SNIFF_BYTES, LocalFile, RawEntry, Source
from bundlelint.inputs.zip import RATIO_MIN_MEMBER, ZIP_ERRORS, ZIP_MAGIC, ZipMember
from bundlelint.options import Options
from bundlelint.parsers.macho import sniff_macho

MAX_NESTED_ARCHIVE = 256 * 1024 * 1024
MAX_NESTED_MEMBER = 64 * 1024 * 1024
MAX_MEMBERS_SCANNED = 20_000
_ZIP_ERRORS = ZIP_ERRORS


class NestedArchiveSource:
    """Another source, plus the Mach-O members of the zip-format files in it."""

    def __init__(self, inner: Source, options: Options | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.is_container = inner.is_container
        self.options = options or Options()
        self._nested: dict[str, tuple[str, str]] = {}  # relpath -> (archive relpath, member)
        if hasattr(inner, "archive"):
            self.archive = inner.archive
        if hasattr(inner, "package"):  # an installer package (inputs.pkg)
            self.package = inner.package
            self.package_error = getattr(inner, "package_error", None)
        if hasattr(inner, "disk_image"):
            self.disk_image = inner.disk_image

    def open_member(self, member: ZipMember) -> BinaryIO:
        """Any member of the zip input (``ZipSource.open_member``), e.g. a ``._`` file."""
        open_member = getattr(self.inner, "open_member", None)
        if open_member is None:
            raise FileNotFoundError(f"{member.name}: the input is not a zip")
        stream: BinaryIO = open_member(member)
        return stream

    def walk(self) -> Iterator[RawEntry]:
        for raw in self.inner.walk():
            yield raw
            if (raw.head.startswith(ZIP_MAGIC) and raw.is_file and raw.error is None
                    and raw.relpath and raw.size <= MAX_NESTED_ARCHIVE
                    and raw.size <= (self.options.max_file_size or raw.size)):
                yield from self._members(raw)

    def _members(self, archive: RawEntry) -> Iterator[RawEntry]:
        try:
            with self.inner.open(archive.relpath) as fh, zipfile.ZipFile(fh) as zf:
                infos = zf.infolist()[:MAX_MEMBERS_SCANNED]
                found = []
                for info in infos:
                    if not self._acceptable(info):
                        continue
                    try:
                        with zf.open(info) as member:
                            head = member.read(SNIFF_BYTES)
                    except _ZIP_ERRORS:
                        continue
                    if sniff_macho(head):
                        found.append((info, head))
        except _ZIP_ERRORS:
            return  # not a readable zip after all: it stays a plain data file
        for info, head in found:
            name = info.filename.strip("/")
            relpath = f"{archive.relpath}/{name}"
            mode = (info.external_attr >> 16) if info.create_system == 3 else 0
            mode = stat.S_IFREG | (stat.S_IMODE(mode) if mode else 0o644)
            self._nested[relpath] = (archive.relpath, info.filename)
            yield RawEntry(relpath, False, True, False, info.file_size, mode, None, head,
                           container=archive.relpath)

    def _acceptable(self, info: zipfile.ZipInfo) -> bool:
        member = ZipMember(name=info.filename, is_dir=info.is_dir(), is_symlink=False,
                           mode=None, file_size=info.file_size,
                           compress_size=info.compress_size, compress_type=info.compress_type,
                           utf8=False, encrypted=bool(info.flag_bits & 1))
        mode = (info.external_attr >> 16) if info.create_system == 3 else 0
        if member.is_dir or member.is_unsafe or member.encrypted or stat.S_ISLNK(mode):
            return False
        if info.file_size < SNIFF_BYTES or info.file_size > MAX_NESTED_MEMBER:
            return False
        ratio = info.file_size / max(info.compress_size, 1)
        return not (info.file_size >= RATIO_MIN_MEMBER
                    and ratio > self.options.max_compression_ratio)

    def local_file(self, relpath: str) -> LocalFile | None:
        if relpath in self._nested:
            return None  # a member of a nested archive has no path of its own
        return self.inner.local_file(relpath)

    def open(self, relpath: str) -> BinaryIO:
        where = self._nested.get(relpath)
        if where is None:
            return self.inner.open(relpath)
        archive, member = where
        try:
            with self.inner.open(archive) as fh, zipfile.ZipFile(fh) as zf:
                info = zf.getinfo(member)
                with zf.open(info) as src:
                    return io.BytesIO(src.read(min(info.file_size, MAX_NESTED_MEMBER) + 1))
        except KeyError:
            raise FileNotFoundError(f"{member}: no such member in {archive}") from None
        except OSError:
            raise
        except _ZIP_ERRORS as exc:
            raise OSError(f"{archive}/{member}: {exc}") from None
