"""A ``.zip`` as uploaded to Apple, read in place: nothing is ever extracted to disk.

The walk comes from the central directory. Symlinks are recognised by ``S_IFLNK`` in the high
16 bits of ``external_attr`` (how ``ditto -c -k`` and ``zip -y`` store them) and their targets
are read from the member data, bounded. Before any member is inflated, in this order:

1. the entries are counted (``parsers.zipdir``) before ``zipfile`` may load the directory;
2. the declared sizes are checked against ``Options.max_archive_size`` and
   ``Options.max_compression_ratio``;
3. every member's local header is read and its bytes (header through declared data) must lie
   in a span of its own: overlapping members (a "better zip bomb") are refused, naming the
   offset;
4. every member is streamed once (``zipstream.measure``) counting the compressed bytes really
   consumed against the bytes produced: a member whose real stream inflates past the ratio
   limit is refused as soon as that is known, whatever its declared compressed size says; the
   archive's real overall ratio is judged too. The same pass checks CRC and size, keeps the
   first bytes for sniffing and records checkpoints for random access into large members.

A refused archive is not walked at all: BL707 says why, and nothing inside is judged.
The AppleDouble ``._`` entries ditto writes for extended attributes are not walked either
(``ditto_metadata``): unpacked by ditto they are attributes, not files.
Members are read through ``zipstream`` (a window of the archive file for stored data, inflation
from the nearest checkpoint for compressed data); members up to ``IN_MEMORY_LIMIT`` are
inflated into memory when opened. No temporary file is ever created.

Memory bound while reading members: one member of at most ``IN_MEMORY_LIMIT`` bytes, or one
read buffer plus the checkpoints (at most ``MAX_CHECKPOINTS`` of about 40 KB for the whole
archive), plus what a nested archive holds (``inputs.nested``).

The archive's raw facts (names exactly as stored, sizes, modes, link targets, small framework
files that look like flattened symlinks) are kept in a frozen ``ZipReport`` that
``Bundle.archive`` exposes to the archive rules (``rules/archive.py``). The source's ``name`` is
the single top-level ``.app``, so findings read ``MyApp.app/Contents/...`` exactly as for the
unpacked bundle.
"""

from __future__ import annotations

import io
import math
import os
import posixpath
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NamedTuple

from bundlelint.errors import ParseError
from bundlelint.inputs.safeopen import FileIdentity, identity_of, open_binary, read_head
from bundlelint.inputs.source import SNIFF_BYTES, LocalFile, RawEntry
from bundlelint.inputs.zipstream import (
    STORED,
    Checkpoint,
    InflatingStream,
    MemberData,
    MemberError,
    RatioExceeded,
    StoredSlice,
    measure,
    read_exactly,
)
from bundlelint.options import Options
from bundlelint.parsers.appledouble import MAGIC as APPLEDOUBLE_MAGIC
from bundlelint.parsers.appledouble import VERSION as APPLEDOUBLE_VERSION
from bundlelint.parsers.macho import sniff_macho
from bundlelint.parsers.zipdir import (
    CentralDirectory,
    Span,
    first_overlap,
    read_local_header,
    scan_central_directory,
)

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
#: Compressed members up to this size are inflated into memory when opened; larger ones are
#: read through a seekable inflating stream (never a temporary file).
IN_MEMORY_LIMIT = 16 * 1024 * 1024
#: Checkpoints into large compressed members, for the whole archive (about 40 KB each).
MAX_CHECKPOINTS = 256
#: Checkpoints are at least this far apart (a seek inflates at most this much).
MIN_CHECKPOINT_SPACING = 4 * 1024 * 1024
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
#: Where ``ditto -c -k --sequesterRsrc`` (and Finder's Compress) put the AppleDouble files.
MACOSX = "__MACOSX"
APPLEDOUBLE_HEADER = struct.pack(">II", APPLEDOUBLE_MAGIC, APPLEDOUBLE_VERSION)
#: What zipfile can raise on hostile data (zlib.error and struct.error escape its own checks).
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
              NotImplementedError, RuntimeError, UnicodeDecodeError, zlib.error, struct.error)
_LINK_LIKE = re.compile(r"^(?!/)[^\x00-\x1f/][^\x00-\x1f]*$")


@dataclass(frozen=True, kw_only=True)
class ZipMember:
    """The central-directory facts of one member, plus what was read from small ones."""

    #: Exactly as stored, decoded (UTF-8 if flagged, else CP437) from the raw bytes: a NUL is
    #: kept (``zipfile`` cuts the name there).
    name: str
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
    header_offset: int | None = None  # absolute offset of its local header
    local_name: str | None = None  # the local header's name when it differs from ``name``

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(p for p in self.name.split("/") if p)

    @property
    def has_nul(self) -> bool:
        """A NUL in the name: C-string tools (and ``zipfile``) cut it there, others do not."""
        return "\0" in self.name

    @property
    def is_unsafe(self) -> bool:
        """An absolute name, a drive or backslash path, a ``..`` component, a NUL, or a local
        header that names the member differently."""
        name = self.name
        return (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) is not None
                or ".." in self.parts or "\\" in name or self.has_nul
                or self.local_name is not None)


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
    refused_offset: int | None = None  # where in the archive the refusal was decided, if known
    max_archive_size: int = 0
    max_compression_ratio: float = 0.0
    #: The archive is a single Mach-O file (a zipped command-line tool), linted as that file.
    single_tool: bool = False

    @property
    def ratio(self) -> float:
        return self.total_uncompressed / max(self.total_compressed, 1)

    @property
    def inspected(self) -> bool:
        """Whether the content was walked (the archive was readable and not refused)."""
        return self.error is None and self.refused is None

    def path_of(self, name: str) -> str:
        """A member as shown in findings: the archive's name, then the member's."""
        return f"{self.archive_name}/{name.rstrip('/')}"


def looks_like_zip(path: Path) -> bool:
    """Whether a file given on the command line is a zip (by name or by magic)."""
    if path.suffix.lower() == ".zip":
        return True
    try:
        head = read_head(path, 4, follow=True)  # the path the user typed: a link is theirs
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


def _decode(raw: bytes, flag_bits: int) -> str:
    """A raw name decoded as ``zipfile`` decodes it (which cannot fail for a record it read)."""
    return raw.decode("utf-8" if flag_bits & 0x800 else "cp437", errors="surrogateescape")


def _member(info: zipfile.ZipInfo, name: str | None = None) -> ZipMember:
    name = info.orig_filename if name is None else name
    mode = _mode(info)
    is_symlink = mode is not None and stat.S_ISLNK(mode)
    is_dir = name.endswith("/") or (mode is not None and stat.S_ISDIR(mode))
    return ZipMember(
        name=name,
        is_dir=is_dir and not is_symlink,
        is_symlink=is_symlink,
        mode=mode,
        file_size=info.file_size,
        compress_size=info.compress_size,
        compress_type=info.compress_type,
        utf8=bool(info.flag_bits & 0x800),
        encrypted=bool(info.flag_bits & 0x1),
        header_offset=info.header_offset,
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


def _is_appledouble(head: bytes) -> bool:
    """Whether a member's first bytes are an AppleDouble header (magic and version 2)."""
    return head[:8] == APPLEDOUBLE_HEADER


def ditto_metadata(members: list[ZipMember], heads: dict[int, bytes]) -> set[int]:
    """Indices of the members that are extended attributes, not files, once ditto (or Archive
    Utility) unpacks the zip: an AppleDouble ``dir/._X`` beside its ``dir/X``, as ``ditto -c
    -k`` writes one for every file with an attribute, or the same under ``__MACOSX/`` (``ditto
    -c -k --sequesterRsrc``, Finder's Compress), with that folder's directory entries.
    Extracting, ditto restores both as the attributes of X (ditto(1), ``--rsrc`` and
    ``--sequesterRsrc``; copyfile.c ``copyfile_unpack``; Apple DTS, "Extended Attributes and
    Zip Archives", https://developer.apple.com/forums/thread/690457), so they are no files of
    the bundle the notary unpacks: the seal (BL232), structure and app-count checks never see
    them, and BL703 alone judges their content (``ZipReport.members`` keeps them). A ``._X``
    without its X, or whose content is not AppleDouble, stays a file."""
    paths: set[str] = set()
    for m in members:
        parts = m.parts
        paths.update("/".join(parts[:n]) for n in range(1, len(parts) + 1))
    found: set[int] = set()
    for index, m in enumerate(members):
        parts = m.parts
        if not parts or m.is_unsafe or m.is_symlink:
            continue
        sequestered = parts[0] == MACOSX
        if sequestered and m.is_dir:
            found.add(index)
            continue
        name = parts[-1]
        if m.is_dir or not name.startswith("._") or not _is_appledouble(heads.get(index, b"")):
            continue
        owner = "/".join((*parts[1 if sequestered else 0:-1], name[2:]))
        if name[2:] and owner in paths:
            found.add(index)
    return found


def _in_framework(name: str) -> bool:
    return any(p.endswith(".framework") for p in name.split("/")[:-1])


def _keep(member: ZipMember) -> int:
    """How many leading bytes of a member the measuring pass keeps: a symlink's target, a small
    framework file that may be a flattened link, else enough to sniff the file's kind."""
    if member.is_symlink:
        return MAX_LINK_TARGET
    if 0 < member.file_size <= MAX_LINK_LIKE_FILE and _in_framework(member.name):
        return MAX_LINK_LIKE_FILE
    return SNIFF_BYTES


class _Stream(io.BufferedReader):
    """A member stream that closes the archive file it reads from when it is closed."""

    def __init__(self, raw: io.RawIOBase, fh: BinaryIO) -> None:
        super().__init__(raw, buffer_size=64 * 1024)
        self._archive = fh

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._archive.close()


class _Layout(NamedTuple):
    """What reading the archive's members in place needs, by member index."""

    data: dict[int, MemberData]  # where each readable member's data lies
    heads: dict[int, bytes]  # first bytes (see ``_keep``)
    errors: dict[int, str]  # why a member cannot be read
    checkpoints: dict[int, list[Checkpoint]]


class ZipSource:
    """The ``Source`` of a zip file: the single top-level .app inside it (or the whole archive
    when there is none), walked from the central directory and opened member by member."""

    is_container = False

    def __init__(self, path: Path, options: Options | None = None) -> None:
        self.path = path
        #: The archive the user named, resolved once; every later open is of this file, and
        #: must be the file first opened (``safeopen``).
        self._archive_path = os.path.realpath(path)
        self._archive_identity: FileIdentity | None = None
        self.options = options or Options()
        self._entries: dict[str, int] = {}  # relpath (below prefix) -> member index
        self._members: list[ZipMember] = []
        self._member_index: dict[int, int] | None = None  # id(member) -> index, when asked
        self._layout = _Layout({}, {}, {}, {})
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
            self.archive = replace(self.archive, single_tool=True)

    # --- reading the central directory ---------------------------------------------------

    def _open_archive(self) -> BinaryIO:
        """The archive file, opened through ``safeopen``: the first open records which file
        it is, and every later one must be that file."""
        fh = open_binary(self._archive_path, expect=self._archive_identity)
        if self._archive_identity is None:
            self._archive_identity = identity_of(os.fstat(fh.fileno()))
        return fh

    def _read(self) -> ZipReport:
        name = self.path.name
        opts = self.options
        limits = _Limits(opts.max_archive_size, opts.max_compression_ratio)
        empty = ZipReport(archive_name=name, max_archive_size=limits.size,
                          max_compression_ratio=limits.ratio)
        too_many, directory = self._scan(opts.max_archive_members)
        if too_many is not None:  # refused before zipfile builds an object per record
            return replace(empty, refused=too_many)
        try:
            with self._open_archive() as fh, zipfile.ZipFile(fh) as zf:
                infos = zf.infolist()
        except ZIP_ERRORS as exc:
            return replace(empty, error=f"{type(exc).__name__}: {exc}")
        raw_names = directory.names if directory is not None else ()
        if len(raw_names) == len(infos):
            names = [_decode(raw, i.flag_bits) for raw, i in zip(raw_names, infos, strict=True)]
        else:  # the scan stopped early where zipfile did not: its untruncated names
            names = [i.orig_filename for i in infos]
        members = [_member(i, n) for i, n in zip(infos, names, strict=True)]
        refused = _refusal(members, opts)
        refused_offset = None
        if refused is None and directory is not None:
            members, refused, refused_offset = self._lay_out(members, infos, directory.offset)
        if refused is None:
            members = [self._enrich(i, m) for i, m in enumerate(members)]
        self._members = members
        metadata = ditto_metadata(members, self._layout.heads) if refused is None else set()
        top = sorted({m.parts[0] for i, m in enumerate(members)
                      if m.parts and not m.is_unsafe and i not in metadata})
        apps = [t for t in top if t.endswith(".app")]
        app = apps[0] if len(apps) == 1 else None
        if refused is None:
            for index, member in enumerate(members):
                if member.is_unsafe or not member.parts or index in metadata:
                    continue  # never mapped into the bundle; reported by the archive rules
                rel = "/".join(member.parts)
                if app is not None:
                    if not rel.startswith(app + "/"):
                        continue
                    rel = rel[len(app) + 1 :]
                self._entries[rel] = index  # a duplicate: the last wins (reported by BL706)
        return replace(
            empty,
            members=tuple(members),
            app_name=app,
            top_level=tuple(top),
            total_uncompressed=sum(m.file_size for m in members),
            total_compressed=sum(m.compress_size for m in members),
            refused=refused,
            refused_offset=refused_offset,
        )

    def _scan(self, limit: int) -> tuple[str | None, CentralDirectory | None]:
        """(why the archive has too many entries to load, or ``None``; the scanned directory
        with its raw names). A directory that cannot be scanned is left to ``zipfile``, which
        reports it (BL701)."""
        try:
            with self._open_archive() as fh:
                size = os.fstat(fh.fileno()).st_size
                cd = scan_central_directory(fh, size, self.path.name, limit, names=True)
        except (ParseError, OSError):
            return None, None
        if cd.declared_entries > limit:
            return (f"declares {cd.declared_entries} entries, over the limit of {limit} "
                    "(max_archive_members)"), cd
        if cd.counted > limit:
            return (f"has more than {limit} central directory records (it declares "
                    f"{cd.declared_entries}), over the limit (max_archive_members)"), cd
        if cd.size > limit * DIRECTORY_BYTES_PER_MEMBER:
            # zipfile reads the whole directory into memory before it looks at a record.
            return (f"declares a central directory of {cd.size} bytes, more than "
                    f"{DIRECTORY_BYTES_PER_MEMBER} bytes for each of the {limit} entries "
                    "allowed (max_archive_members)"), cd
        return None, cd

    def _lay_out(self, members: list[ZipMember], infos: list[zipfile.ZipInfo],
                 directory_offset: int) -> tuple[list[ZipMember], str | None, int | None]:
        """Read every local header, refuse overlapping members, then stream every member once
        to measure its real compression ratio (see the module docstring). Returns the members
        (with the local names that differ) and why and where the archive is refused, if it
        is."""
        layout = self._layout
        spans: list[Span] = []
        out = list(members)
        try:
            fh = self._open_archive()
        except OSError as exc:
            return out, f"cannot be read again: {exc.strerror or exc}", None
        with fh:
            size = os.fstat(fh.fileno()).st_size
            for index, (member, info) in enumerate(zip(members, infos, strict=True)):
                try:
                    local = read_local_header(fh, info.header_offset, size, self.path.name)
                except ParseError as err:
                    layout.errors[index] = err.reason
                    continue
                end = local.data_offset + info.compress_size
                spans.append(Span(local.offset, end, member.name))
                local_name = _decode(local.name, info.flag_bits)
                if local_name != member.name:
                    out[index] = replace(member, local_name=local_name)
                layout.data[index] = MemberData(member.name, info.compress_type,
                                                local.data_offset, info.compress_size,
                                                info.file_size, info.CRC)
            overlap = first_overlap(spans, directory_offset)
            if overlap is not None:
                return out, f"has overlapping members (a zip bomb): {overlap[1]}", overlap[0]
            return (out, *self._measure(fh, out))

    def _measure(self, fh: BinaryIO,
                 members: list[ZipMember]) -> tuple[str | None, int | None]:
        """Stream each member once, in file order; why (and at which offset) the archive is
        refused, or ``(None, None)``."""
        layout = self._layout
        limit = self.options.max_compression_ratio
        big = sum(d.file_size for d in layout.data.values()
                  if d.method != STORED and d.file_size > IN_MEMORY_LIMIT)
        spacing = max(MIN_CHECKPOINT_SPACING, math.ceil(big / MAX_CHECKPOINTS))
        produced = consumed = 0
        for index, data in sorted(layout.data.items(), key=lambda item: item[1].data_offset):
            member = members[index]
            if member.encrypted:
                layout.errors[index] = "member is encrypted"
                continue
            if member.is_dir and data.file_size == 0:
                continue
            wants_marks = data.method != STORED and data.file_size > IN_MEMORY_LIMIT
            try:
                found = measure(fh, data, max_ratio=limit, keep=_keep(member),
                                spacing=spacing if wants_marks else None)
            except RatioExceeded as exc:
                return (f"has a member whose real compressed data inflates past the limit: "
                        f"{member.name!r} (its central directory declares "
                        f"{data.compress_size} compressed bytes for {data.file_size}) {exc}",
                        exc.offset)
            except MemberError as exc:
                layout.errors[index] = str(exc)
                continue
            layout.heads[index] = found.head
            if found.checkpoints:
                layout.checkpoints[index] = found.checkpoints
            produced += found.produced
            consumed += found.consumed
        if produced >= RATIO_MIN_MEMBER and produced > limit * max(consumed, 1):
            return (f"really inflates {consumed} compressed bytes to {produced} "
                    f"({produced / max(consumed, 1):.0f}:1, over the {limit:g}:1 limit, "
                    "max_compression_ratio)"), None
        return None, None

    def _enrich(self, index: int, member: ZipMember) -> ZipMember:
        """A symlink's target, or the text of a small framework file that may be a symlink
        flattened into a regular file: both from the bytes the measuring pass kept."""
        data = self._layout.heads.get(index)
        if data is None or index in self._layout.errors:
            return member
        if member.is_symlink:
            if member.file_size > MAX_LINK_TARGET:
                return member
            target = data.decode("utf-8", errors="surrogateescape")
            return replace(member, symlink_target=target)
        if (not member.is_dir and 0 < member.file_size <= MAX_LINK_LIKE_FILE
                and _in_framework(member.name) and not member.is_unsafe):
            try:
                text = data.decode("utf-8").strip()
            except UnicodeDecodeError:
                return member
            if text and "\n" not in text and _LINK_LIKE.match(text):
                return replace(member, link_like_text=text)
        return member

    def _single_file(self) -> str | None:
        """The archive holds one Mach-O file and nothing else (a zipped command-line tool):
        lint it as a single file, named after itself. Any other lone file is an archive
        without an app (BL705), not an input of its own."""
        if self.archive.app_name is not None or len(self._entries) != 1:
            return None
        (rel, index), = self._entries.items()
        member = self._members[index]
        if "/" in rel or member.is_dir or member.is_symlink:
            return None
        if not sniff_macho(self._layout.heads.get(index, b"")):
            return None
        self._entries = {"": index}
        return rel

    # --- Source protocol -----------------------------------------------------------------

    def walk(self) -> Iterator[RawEntry]:
        dirs: dict[str, int] = {}
        files: list[tuple[str, int]] = []
        for rel, index in self._entries.items():
            parts = rel.split("/")
            for i in range(1, len(parts)):
                dirs.setdefault("/".join(parts[:i]), 0o40755)
            member = self._members[index]
            if member.is_dir:
                if rel:
                    dirs[rel] = member.mode or 0o40755
            else:
                files.append((rel, index))
        file_names = {rel for rel, _ in files}
        for rel in sorted(dirs):
            if rel not in file_names:
                yield RawEntry(rel, True, False, False, 0, dirs[rel], None, b"")
        layout = self._layout
        for rel, index in sorted(files, key=lambda ri: ri[0]):
            member = self._members[index]
            error = layout.errors.get(index)
            if member.is_symlink:
                target = member.symlink_target
                if target is None:
                    error = error or f"symlink target is longer than {MAX_LINK_TARGET} bytes"
                yield RawEntry(rel, False, False, True, 0, member.mode or 0o120755, target,
                               b"", error)
                continue
            mode = member.mode or 0o100644
            if not stat.S_ISREG(mode) and stat.S_IFMT(mode) != 0:
                yield RawEntry(rel, False, False, False, 0, mode, None, b"")
                continue
            head = layout.heads.get(index, b"")[:SNIFF_BYTES]
            yield RawEntry(rel, False, True, False, member.file_size,
                           stat.S_IFREG | stat.S_IMODE(mode), None, head, error)

    def open(self, relpath: str) -> BinaryIO:
        """A seekable stream of one member, read in place from the archive: stored data as a
        window of the file, compressed data inflated into memory up to ``IN_MEMORY_LIMIT`` and
        above it as it is read (from the nearest checkpoint). Every failure is an ``OSError``;
        nothing is written anywhere."""
        index = self._entries.get(relpath)
        if index is None:
            raise FileNotFoundError(f"{relpath}: no such member in {self.path.name}")
        return self._open_index(index, relpath)

    def local_file(self, relpath: str) -> LocalFile | None:
        """Members have no path of their own: only this source reads them."""
        return None

    def open_member(self, member: ZipMember) -> BinaryIO:
        """Like :meth:`open`, for any member of the archive (``._`` files beside the app or
        under ``__MACOSX/`` are not part of the walked bundle)."""
        if self._member_index is None:
            self._member_index = {id(m): i for i, m in enumerate(self._members)}
        index = self._member_index.get(id(member))
        if index is not None and self._members[index] is member:
            return self._open_index(index, member.name)
        raise FileNotFoundError(f"{member.name}: no such member in {self.path.name}")

    def _open_index(self, index: int, relpath: str) -> BinaryIO:
        if self.archive.refused is not None:
            raise OSError(f"not inflated: the archive {self.archive.refused}")
        error = self._layout.errors.get(index)
        data = self._layout.data.get(index)
        if error is not None or data is None:
            raise OSError(error or f"{relpath}: not read from {self.path.name}")
        fh = self._open_archive()  # the stream returned closes it
        try:
            if data.method == STORED:
                return _Stream(StoredSlice(fh, data.data_offset, data.file_size), fh)
            stream = InflatingStream(fh, data, self._layout.checkpoints.get(index, ()))
            if data.file_size > IN_MEMORY_LIMIT:
                return _Stream(stream, fh)
            with fh:
                return io.BytesIO(read_exactly(stream, data.file_size))
        except BaseException:
            fh.close()
            raise


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
