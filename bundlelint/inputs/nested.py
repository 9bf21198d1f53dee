"""Archives and containers nested in an input, walked as the notary unpacks them.

Apple's notary opens nested archives and containers and judges the code inside them ("It
processes nested containers as well, like packages inside a disk image": Apple's "Notarizing
macOS software before distribution"; its log names such code
``.../Resources/lib.jar/native/libfoo.dylib``). ``NestedArchiveSource`` wraps any other source
and passes its entries through, adding for each nested file it recognises:

- a zip or jar (by magic) or a tar archive (``.tar``, ``.tar.gz``, ``.tgz``: ``inputs.tar``):
  one entry per Mach-O member, relpath ``<archive relpath>/<member name>``, read through the
  archive in memory. Only Mach-O members become entries, so class files and resources inside
  jars do not show up as files of the bundle; the rules judge that code like any other (an
  unsigned dylib in a jar fires BL201).
- a disk image or an installer package (recognised by content, opened by the format's opener
  in ``inputs.containers``): everything inside it, under ``<container relpath>/``, itself
  wrapped again, so a jar in an app in a package in a disk image is found too.

Every such entry carries ``container``: the relpath of the archive or container it is in (the
bundle that holds that file seals the file, not what is inside it).

Bounded: each archive or container up to ``MAX_NESTED_ARCHIVE`` bytes, at most
``MAX_NESTING`` levels below the input, all of them together within ``max_archive_size``; at
most ``MAX_MEMBERS_SCANNED`` members per archive, members up to ``MAX_NESTED_MEMBER`` bytes and
within the compression-ratio limit. What is not walked for one of these reasons is listed in
``nested_skipped`` (BL850 reports it). Nothing is written anywhere.
"""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from bundlelint.errors import ParseError
from bundlelint.inputs.containers import (
    MAGIC_BYTES,
    ContainerFile,
    ContainerFormat,
    container_format,
    open_container,
)
from bundlelint.inputs.source import SNIFF_BYTES, LocalFile, RawEntry, Source
from bundlelint.inputs.tar import (
    TAR_ERRORS,
    Limits,
    TarMember,
    TarRefused,
    looks_like_tar,
    read_member,
    scan,
)
from bundlelint.inputs.zip import RATIO_MIN_MEMBER, ZIP_ERRORS, ZIP_MAGIC, ZipMember
from bundlelint.options import Options
from bundlelint.parsers.macho import sniff_macho

MAX_NESTED_ARCHIVE = 256 * 1024 * 1024
MAX_NESTED_MEMBER = 64 * 1024 * 1024
MAX_MEMBERS_SCANNED = 20_000
#: How many levels of archives and containers below the input are opened (a jar in an app in
#: a package in a disk image is three).
MAX_NESTING = 3
_ZIP_ERRORS = ZIP_ERRORS
#: What a container's opener may raise despite its contract, for a container it cannot read.
_OPENER_ERRORS = (ParseError, OSError, ValueError, EOFError)


class NestedSkip(NamedTuple):
    """A nested archive or container that was not walked, and why."""

    relpath: str
    reason: str


class _Budget:
    """The bytes all nested archives of one input may still take (``max_archive_size``)."""

    def __init__(self, total: int) -> None:
        self.left = total


class NestedArchiveSource:
    """Another source, plus what the archives and containers nested in it hold."""

    def __init__(self, inner: Source, options: Options | None = None, *, depth: int = 0,
                 budget: _Budget | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.is_container = inner.is_container
        self.options = options or Options()
        self.depth = depth
        self._budget = budget or _Budget(self.options.max_archive_size)
        #: Nested archives and containers not walked (limits, damage), with the reason.
        self.nested_skipped: list[NestedSkip] = []
        self._nested: dict[str, tuple[str, str]] = {}  # relpath -> (archive relpath, member)
        self._tar: dict[str, tuple[str, TarMember]] = {}  # relpath -> (archive relpath, member)
        self._tar_heads: dict[str, bytes] = {}  # archive relpath -> its first bytes
        #: container relpath -> the source of what is inside it
        self._containers: dict[str, NestedArchiveSource] = {}
        self._in_container: dict[str, str] = {}  # file relpath -> its container's relpath
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
            if not raw.is_file or raw.error is not None or not raw.relpath:
                continue
            fmt = self._container_format(raw)
            is_zip = fmt is None and raw.head.startswith(ZIP_MAGIC)
            is_tar = fmt is None and not is_zip and looks_like_tar(raw.relpath, raw.head)
            if fmt is None and not is_zip and not is_tar:
                continue
            refusal = self._refusal(raw)
            if refusal is not None:
                self.nested_skipped.append(NestedSkip(raw.relpath, refusal))
                continue
            if is_tar:  # charged what it expands to
                yield from self._tar_members(raw)
                continue
            self._budget.left -= raw.size
            if fmt is not None:
                yield from self._container(raw, fmt)
            else:
                yield from self._members(raw)

    def _refusal(self, raw: RawEntry) -> str | None:
        limit = self.options.max_file_size
        if self.depth >= MAX_NESTING:
            return f"nested more than {MAX_NESTING} archives or containers deep: not opened"
        if raw.size > MAX_NESTED_ARCHIVE or (limit is not None and raw.size > limit):
            return (f"{raw.size} bytes is over the {min(MAX_NESTED_ARCHIVE, limit or raw.size)} "
                    "byte limit for a nested archive: not opened")
        if raw.size > self._budget.left:
            return ("the nested archives together are over the max_archive_size limit "
                    f"({self.options.max_archive_size} bytes): not opened")
        return None

    def _container_format(self, raw: RawEntry) -> ContainerFormat | None:
        """The container format of ``raw`` by content; the tail (a disk image's trailer) is
        read only for a file named ``.dmg``, not for every file of the input."""
        tail = b""
        if raw.relpath.lower().endswith(".dmg") and raw.size >= MAGIC_BYTES:
            try:
                with self.inner.open(raw.relpath) as fh:
                    fh.seek(raw.size - MAGIC_BYTES)
                    tail = fh.read(MAGIC_BYTES)
            except OSError:
                return None
        return container_format(raw.head, tail)

    # --- containers ------------------------------------------------------------------------

    def _container(self, raw: RawEntry, fmt: ContainerFormat) -> Iterator[RawEntry]:
        name = raw.relpath.rpartition("/")[2]
        try:
            fh = self.inner.open(raw.relpath)  # kept open: the container's source reads it
            source = open_container(fmt, ContainerFile(fh, raw.size, name, None, None,
                                                       self.options))
        except _OPENER_ERRORS as exc:
            reason = exc.reason if isinstance(exc, ParseError) else (
                getattr(exc, "strerror", None) or str(exc))
            self.nested_skipped.append(NestedSkip(raw.relpath, f"cannot be opened as a "
                                                  f"{fmt.what}: {reason}"))
            return
        nested = NestedArchiveSource(source, self.options, depth=self.depth + 1,
                                     budget=self._budget)
        self._containers[raw.relpath] = nested
        prefix = raw.relpath + "/"
        for inner in nested.walk():
            if not inner.relpath:
                continue
            relpath = prefix + inner.relpath
            if inner.is_file and inner.error is None:
                self._in_container[relpath] = raw.relpath
            container = raw.relpath if inner.container is None else prefix + inner.container
            yield inner._replace(relpath=relpath, container=container, identity=None)
        self.nested_skipped.extend(NestedSkip(prefix + s.relpath, s.reason)
                                   for s in nested.nested_skipped)

    # --- tar archives ----------------------------------------------------------------------

    def _tar_limits(self, raw: RawEntry) -> Limits:
        ratio_bound = int(raw.size * self.options.max_compression_ratio) + RATIO_MIN_MEMBER
        if ratio_bound <= self._budget.left:
            why = (f"the {self.options.max_compression_ratio:g}:1 compression-ratio limit, "
                   "max_compression_ratio")
        else:
            why = ("what is left of the max_archive_size limit "
                   f"({self.options.max_archive_size} bytes) for all nested archives")
        return Limits(expanded=min(ratio_bound, self._budget.left),
                      single_read=MAX_NESTED_MEMBER + 1, members=MAX_MEMBERS_SCANNED, why=why)

    def _tar_members(self, archive: RawEntry) -> Iterator[RawEntry]:
        try:
            with self.inner.open(archive.relpath) as fh:
                members, produced = scan(fh, archive.head, self._tar_limits(archive),
                                         MAX_NESTED_MEMBER)
        except TarRefused as exc:
            self.nested_skipped.append(NestedSkip(
                archive.relpath, f"{exc.reason} (at offset {exc.offset} of the tar stream): "
                "not walked"))
            return
        except TAR_ERRORS as exc:
            self.nested_skipped.append(NestedSkip(
                archive.relpath, f"cannot be read as a tar archive: {exc}"))
            return
        self._budget.left -= produced
        self._tar_heads[archive.relpath] = archive.head
        for member in members:
            if not sniff_macho(member.head):
                continue
            relpath = f"{archive.relpath}/{member.name.strip('/')}"
            self._tar[relpath] = (archive.relpath, member)
            yield RawEntry(relpath, False, True, False, member.size, member.mode, None,
                           member.head, container=archive.relpath)

    # --- zip archives ----------------------------------------------------------------------

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
        if relpath in self._nested or relpath in self._tar or relpath in self._in_container:
            return None  # inside a nested archive or container: no path of its own
        return self.inner.local_file(relpath)

    def open(self, relpath: str) -> BinaryIO:
        container = self._in_container.get(relpath)
        if container is not None:
            return self._containers[container].open(relpath[len(container) + 1:])
        in_tar = self._tar.get(relpath)
        if in_tar is not None:
            return self._open_tar_member(*in_tar)
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

    def _open_tar_member(self, archive: str, member: TarMember) -> BinaryIO:
        head = self._tar_heads[archive]
        limits = Limits(self.options.max_archive_size, MAX_NESTED_MEMBER + 1,
                        MAX_MEMBERS_SCANNED)
        try:
            with self.inner.open(archive) as fh:
                return io.BytesIO(read_member(fh, head, limits, member, MAX_NESTED_MEMBER))
        except TarRefused as exc:
            raise OSError(f"{archive}/{member.name}: {exc.reason}") from None
        except OSError:
            raise
        except TAR_ERRORS as exc:
            raise OSError(f"{archive}/{member.name}: {exc}") from None
