"""A ``.zip`` as uploaded to Apple, read in place: nothing is ever extracted to disk.

The walk comes from the central directory. Symlinks are recognised by ``S_IFLNK`` in the high
16 bits of ``external_attr`` (how ``ditto -c -k`` and ``zip -y`` store them) and their targets
are read from the member data, bounded. Before any member is inflated the declared sizes are
checked against ``Options.max_archive_size`` and ``Options.max_compression_ratio``: a zip bomb
is reported from its central directory and never inflated. Python's ``ZipExtFile`` stops at the
declared size, so a member that lies about its size cannot inflate past the checked total.

The archive's raw facts (names, sizes, modes, link targets, small framework files that look like
flattened symlinks) are kept in a frozen ``ZipReport`` that ``Bundle.archive`` exposes to the
archive rules (``rules/archive.py``). The source's ``name`` is the single top-level ``.app``, so
findings read ``MyApp.app/Contents/...`` exactly as for the unpacked bundle.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NamedTuple

from bundlelint.bundle import SNIFF_BYTES, RawEntry
from bundlelint.errors import ParseError
from bundlelint.options import Options
from bundlelint.parsers.zipdir import scan_central_directory

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
#: Members up to this size are inflated into memory; larger ones into a SpooledTemporaryFile
#: (memory first, then an anonymous temporary file that the OS deletes on close).
IN_MEMORY_LIMIT = 64 * 1024 * 1024
#: A symlink target longer than this is not a path (macOS PATH_MAX is 1024).
MAX_LINK_TARGET = 4096
#: The central directory size allowed per permitted entry (a record is 46 bytes plus its name,
#: extra field and comment; names in app bundles are well under a kilobyte).
DIRECTORY_BYTES_PER_MEMBER = 1024
#: Small regular files in a framework whose content may be a flattened symlink's target.
MAX_LINK_LIKE_FILE = 1024
#: Members smaller than this are not judged by their own compression ratio (tiny files of
#: zeros compress 1000:1 legitimately); the archive's overall ratio still counts them.
RATIO_MIN_MEMBER = 1024 * 1024
UNIX_CREATOR = 3
#: What zipfile can raise on hostile data (zlib.error and struct.error escape its own checks).
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
              NotImplementedError, RuntimeError, UnicodeDecodeError, zlib.error, struct.error)
_LINK_LIKE = re.compile(r"^(?!/)[^\x00-\x1f/][^\x00-\x1f]*$")


@dataclass(frozen=True, kw_only=True)
class ZipMember:
    """The central-directory facts of one member, plus what was read from small ones."""

    name: str  # exactly as stored (decoded: UTF-8 if flagged, else CP437)
    is_dir: bool
    is_symlink: bool
    mode: int | None  # Unix mode from external_attr; None for a DOS-made entry
    file_size: int
    compress_size: int
    compress_type: int
    utf8: bool  # general purpose flag bit 11
    encrypted: bool
    symlink_target: str | None = None
    link_like_text: str | None = None  # small framework file whose content looks like a path

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(p for p in self.name.split("/") if p)

    @property
    def is_unsafe(self) -> bool:
        """An absolute name, a drive or backslash path, or a ``..`` component."""
        name = self.name
        return (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) is not None
                or ".." in self.parts or "\\" in name)


@dataclass(frozen=True, kw_only=True)
class ZipReport:
    """What the archive holds, as raw facts for the archive rules."""

    archive_name: str  # the .zip file's name, e.g. "MyApp.zip"
    members: tuple[ZipMember, ...] = ()
    error: str | None = None  # the central directory could not be read at all
    app_name: str | None = None  # the single top-level .app, if there is exactly one
    top_level: tuple[str, ...] = ()  # first path components, sorted, junk included
    total_uncompressed: int = 0
    total_compressed: int = 0
    refused: str | None = None  # why members were not inflated (limits exceeded)
    max_archive_size: int = 0
    max_compression_ratio: float = 0.0

    @property
    def ratio(self) -> float:
        return self.total_uncompressed / max(self.total_compressed, 1)

    def path_of(self, name: str) -> str:
        """A member as shown in findings: the archive's name, then the member's."""
        return f"{self.archive_name}/{name.rstrip('/')}"


def looks_like_zip(path: Path) -> bool:
    """Whether a file given on the command line is a zip (by name or by magic)."""
    if path.suffix.lower() == ".zip":
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    return head in (ZIP_MAGIC, EMPTY_ZIP_MAGIC)


class _Limits(NamedTuple):
    size: int
    ratio: float


def _mode(info: zipfile.ZipInfo) -> int | None:
    if info.create_system != UNIX_CREATOR:
        return None
    return (info.external_attr >> 16) or None


def _member(info: zipfile.ZipInfo) -> ZipMember:
    mode = _mode(info)
    is_symlink = mode is not None and stat.S_ISLNK(mode)
    is_dir = info.filename.endswith("/") or (mode is not None and stat.S_ISDIR(mode))
    return ZipMember(
        name=info.filename,
        is_dir=is_dir and not is_symlink,
        is_symlink=is_symlink,
        mode=mode,
        file_size=info.file_size,
        compress_size=info.compress_size,
        compress_type=info.compress_type,
        utf8=bool(info.flag_bits & 0x800),
        encrypted=bool(info.flag_bits & 0x1),
    )


def _refusal(members: list[ZipMember], options: Options) -> str | None:
    total = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if total > options.max_archive_size:
        return (f"declares {total} bytes uncompressed, over the {options.max_archive_size} "
                "byte limit (max_archive_size)")
    limit = options.max_compression_ratio
    if total >= RATIO_MIN_MEMBER and total / max(packed, 1) > limit:
        return (f"compression ratio {total / max(packed, 1):.0f}:1 is over the {limit:g}:1 "
                "limit (max_compression_ratio)")
    for m in members:
        if m.file_size >= RATIO_MIN_MEMBER and m.file_size / max(m.compress_size, 1) > limit:
            return (f"member {m.name!r} inflates {m.compress_size} bytes to {m.file_size} "
                    f"({m.file_size / max(m.compress_size, 1):.0f}:1, over the {limit:g}:1 "
                    "limit, max_compression_ratio)")
    return None


def _in_framework(name: str) -> bool:
    return any(p.endswith(".framework") for p in name.split("/")[:-1])


class ZipSource:
    """The ``Source`` of a zip file: the single top-level .app inside it (or the whole archive
    when there is none), walked from the central directory and opened member by member."""

    def __init__(self, path: Path, options: Options | None = None) -> None:
        self.path = path
        self.options = options or Options()
        self._zip: zipfile.ZipFile | None = None
        self._infos: dict[str, zipfile.ZipInfo] = {}  # relpath (below prefix) -> info
        self._prefix = ""
        self.archive = self._read()
        if self.archive.app_name is not None:
            self.name = self.archive.app_name
            self._prefix = self.archive.app_name + "/"
        else:
            self.name = path.name
        self._single = self._single_file()
        if self._single is not None:
            self.name = self._single

    # --- reading the central directory ---------------------------------------------------

    def _read(self) -> ZipReport:
        name = self.path.name
        opts = self.options
        limits = _Limits(opts.max_archive_size, opts.max_compression_ratio)
        too_many = self._too_many_members(opts.max_archive_members)
        if too_many is not None:  # refused before zipfile builds an object per record
            return ZipReport(archive_name=name, refused=too_many, max_archive_size=limits.size,
                             max_compression_ratio=limits.ratio)
        try:
            self._zip = zipfile.ZipFile(self.path)
            infos = self._zip.infolist()
        except ZIP_ERRORS as exc:
            self._zip = None
            return ZipReport(archive_name=name, error=f"{type(exc).__name__}: {exc}",
                             max_archive_size=limits.size, max_compression_ratio=limits.ratio)
        members = [_member(i) for i in infos]
        refused = _refusal(members, opts)
        if refused is None:
            members = [self._enrich(m, i) for m, i in zip(members, infos, strict=True)]
        top = sorted({m.parts[0] for m in members if m.parts and not m.is_unsafe})
        apps = [t for t in top if t.endswith(".app")]
        app = apps[0] if len(apps) == 1 else None
        for member, info in zip(members, infos, strict=True):
            if member.is_unsafe or not member.parts:
                continue  # never mapped into the bundle; reported by the archive rules
            rel = "/".join(member.parts)
            if app is not None:
                if not rel.startswith(app + "/"):
                    continue
                rel = rel[len(app) + 1 :]
            self._infos[rel] = info  # a duplicate name: the last one wins, as on extraction
        return ZipReport(
            archive_name=name,
            members=tuple(members),
            app_name=app,
            top_level=tuple(top),
            total_uncompressed=sum(m.file_size for m in members),
            total_compressed=sum(m.compress_size for m in members),
            refused=refused,
            max_archive_size=limits.size,
            max_compression_ratio=limits.ratio,
        )

    def _too_many_members(self, limit: int) -> str | None:
        """Why the archive has too many entries to load, or ``None``. A directory that cannot
        be scanned is left to ``zipfile``, which reports it (BL701)."""
        try:
            with open(self.path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                cd = scan_central_directory(fh, size, self.path.name, limit)
        except (ParseError, OSError):
            return None
        if cd.declared_entries > limit:
            return (f"declares {cd.declared_entries} entries, over the limit of {limit} "
                    "(max_archive_members)")
        if cd.counted > limit:
            return (f"has more than {limit} central directory records (it declares "
                    f"{cd.declared_entries}), over the limit (max_archive_members)")
        if cd.size > limit * DIRECTORY_BYTES_PER_MEMBER:
            # zipfile reads the whole directory into memory before it looks at a record.
            return (f"declares a central directory of {cd.size} bytes, more than "
                    f"{DIRECTORY_BYTES_PER_MEMBER} bytes for each of the {limit} entries "
                    "allowed (max_archive_members)")
        return None

    def _enrich(self, member: ZipMember, info: zipfile.ZipInfo) -> ZipMember:
        """Read a symlink's target, or the text of a small framework file that may be a
        symlink flattened into a regular file; both bounded and never written anywhere."""
        if member.is_symlink:
            if member.file_size > MAX_LINK_TARGET:
                return member
            data = self._read_member(info, MAX_LINK_TARGET)
            if data is None:
                return member
            target = data.decode("utf-8", errors="surrogateescape")
            return replace(member, symlink_target=target)
        if (not member.is_dir and 0 < member.file_size <= MAX_LINK_LIKE_FILE
                and _in_framework(member.name) and not member.is_unsafe):
            data = self._read_member(info, MAX_LINK_LIKE_FILE)
            if data is None:
                return member
            try:
                text = data.decode("utf-8").strip()
            except UnicodeDecodeError:
                return member
            if text and "\n" not in text and _LINK_LIKE.match(text):
                return replace(member, link_like_text=text)
        return member

    def _read_member(self, info: zipfile.ZipInfo, limit: int) -> bytes | None:
        assert self._zip is not None
        try:
            with self._zip.open(info) as fh:
                return fh.read(limit)
        except ZIP_ERRORS:
            return None

    def _single_file(self) -> str | None:
        """The archive holds one regular file and nothing else (a zipped command-line tool):
        lint it as a single file, named after itself."""
        if self.archive.app_name is not None or len(self._infos) != 1:
            return None
        (rel, info), = self._infos.items()
        member = _member(info)
        if "/" in rel or member.is_dir or member.is_symlink:
            return None
        self._infos = {"": info}
        return rel

    # --- Source protocol -----------------------------------------------------------------

    def walk(self) -> Iterator[RawEntry]:
        dirs: dict[str, int] = {}
        files: list[tuple[str, zipfile.ZipInfo]] = []
        for rel, info in self._infos.items():
            parts = rel.split("/")
            for i in range(1, len(parts)):
                dirs.setdefault("/".join(parts[:i]), 0o40755)
            member = _member(info)
            if member.is_dir:
                if rel:
                    dirs[rel] = member.mode or 0o40755
            else:
                files.append((rel, info))
        file_names = {rel for rel, _ in files}
        for rel in sorted(dirs):
            if rel not in file_names:
                yield RawEntry(rel, True, False, False, 0, dirs[rel], None, b"")
        by_name = {m.name: m for m in self.archive.members}
        for rel, info in sorted(files, key=lambda ri: ri[0]):
            member = by_name.get(info.filename) or _member(info)
            if member.is_symlink:
                target = member.symlink_target
                error = None if target is not None else "symlink target is unreadable or " \
                    f"longer than {MAX_LINK_TARGET} bytes"
                yield RawEntry(rel, False, False, True, 0, member.mode or 0o120755, target,
                               b"", error)
                continue
            mode = member.mode or 0o100644
            if not stat.S_ISREG(mode) and stat.S_IFMT(mode) != 0:
                yield RawEntry(rel, False, False, False, 0, mode, None, b"")
                continue
            error = None
            if member.encrypted:
                error = "member is encrypted"
            head = b""
            if error is None and self.archive.refused is None:
                data = self._read_member(info, SNIFF_BYTES)
                if data is None:
                    error = "member cannot be inflated (corrupt or unsupported compression)"
                else:
                    head = data
            yield RawEntry(rel, False, True, False, member.file_size,
                           stat.S_IFREG | stat.S_IMODE(mode), None, head, error)

    def open(self, relpath: str) -> BinaryIO:
        """A seekable stream of one member, inflated in memory (or, above
        ``IN_MEMORY_LIMIT``, in a SpooledTemporaryFile); every failure is an ``OSError``."""
        info = self._infos.get(relpath)
        if info is None or self._zip is None:
            raise FileNotFoundError(f"{relpath}: no such member in {self.path.name}")
        if self.archive.refused is not None:
            raise OSError(f"not inflated: the archive {self.archive.refused}")
        try:
            with self._zip.open(info) as src:
                if info.file_size <= IN_MEMORY_LIMIT:
                    return io.BytesIO(src.read(info.file_size + 1))
                spool = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_LIMIT)  # noqa: SIM115
                while chunk := src.read(1024 * 1024):
                    spool.write(chunk)
                spool.seek(0)
                return spool  # type: ignore[return-value]
        except OSError:
            raise
        except ZIP_ERRORS as exc:
            raise OSError(f"{info.filename}: {exc}") from None


def resolve_in_archive(member_name: str, target: str) -> str | None:
    """The archive name ``target`` denotes from the member ``member_name`` (lexically), or
    ``None`` if it is absolute or climbs above the archive root."""
    if target.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(member_name.rstrip("/")),
                                               target))
    if joined == ".." or joined.startswith("../"):
        return None
    return "" if joined == "." else joined


def top_component(name: str) -> str:
    return PurePosixPath(name).parts[0] if name.strip("/") else ""
