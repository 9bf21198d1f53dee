"""xar archives (installer packages, ``.pkg``): header, zlib table of contents, heap.

Layout (Apple's libxar, ``include/xar.h.in`` ``struct xar_header`` and ``lib/archive.c``
``xar_parse_header``/``_xar_open_digest_verify_impl``; docs/formats.md 13):

- a 28-byte big-endian header: magic ``xar!``, header size, version, compressed and
  uncompressed TOC lengths (u64), TOC checksum algorithm (0 none, 1 SHA-1, 2 MD5,
  3 SHA-256, 4 SHA-512);
- the TOC: zlib-compressed XML (``toc_read_callback`` inflates it);
- the heap. The TOC's ``<checksum>`` names where in the heap the digest of the *compressed*
  TOC bytes is stored; libxar refuses an archive whose header algorithm and TOC checksum
  style disagree, or whose stored digest differs ("Checksums do not match!"). libxar's heap
  starts at ``sizeof(xar_header_t) + toc_length_compressed`` (``util.c``
  ``xar_get_heap_offset``): a header size other than 28 moves the TOC but not the heap.
- each ``<file>`` has a ``<data>`` (heap offset, archived length, extracted size, encoding,
  archived and extracted checksums) and ``<ea>`` extended attributes the same way;
  ``<signature>`` and ``<x-signature>`` name a heap range holding the signature bytes.
- after the heap, ``stapler`` may append a ticket between two 16-byte ``t8lr`` trailers
  (docs/formats.md 14).

Everything is bounded: the TOC inflates to at most ``MAX_TOC`` bytes, the XML is read by
``parsers.safexml`` (no entities, depth and element caps), heap ranges are checked against the
file, and a partial overlap of two heap ranges is reported (identical ranges are allowed:
libxar's ``coalesce`` option shares heap blocks of identical files).
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from bundlelint.errors import ParseError
from bundlelint.parsers.decoded import ByteSource, FileRange, InflateStream, SourceReader
from bundlelint.parsers.safexml import Element, parse_xml
from bundlelint.parsers.volume import Node, NodeKind

FMT = "xar archive"
MAGIC = b"xar!"
HEADER = struct.Struct(">4sHHQQI")
HEADER_SIZE = 28
#: The largest inflated TOC accepted (Apple's packages have TOCs of kilobytes).
MAX_TOC = 64 * 1024 * 1024
#: Directory nesting in the TOC beyond which the archive is refused.
MAX_TREE_DEPTH = 48
#: Signature blobs larger than this are not read (Apple's CMS is ~9 KB).
MAX_SIGNATURE = 1024 * 1024
#: Trailing bytes kept for the ticket reader.
MAX_TAIL = 1024 * 1024
CHECKSUM_NAMES = {0: "none", 1: "sha1", 2: "md5", 3: "sha256", 4: "sha512"}
DIGEST_SIZES = {"sha1": 20, "md5": 16, "sha256": 32, "sha512": 64}
TRAILER_MAGIC = b"t8lr"
TRAILER = struct.Struct("<4sHHII")
TRAILER_TERMINATOR = 1
TRAILER_TICKET = 2
ENCODINGS = {
    "application/octet-stream": None,
    "application/x-gzip": "zlib",  # libxar's "gzip" is a zlib stream (lib/zxar.c)
    "application/x-bzip2": "bzip2",
    "application/x-lzma": "xz",
    "application/x-xz": "xz",
}


@dataclass(frozen=True)
class XarHeader:
    magic: bytes
    size: int
    version: int
    toc_compressed: int
    toc_uncompressed: int
    checksum_alg: int

    @property
    def checksum_name(self) -> str:
        return CHECKSUM_NAMES.get(self.checksum_alg, f"unknown ({self.checksum_alg})")


@dataclass(frozen=True)
class Checksum:
    style: str
    value: str  # lower-case hex as the TOC stores it


@dataclass(frozen=True)
class XarData:
    """A heap range: a file's data or an extended attribute."""

    offset: int  # relative to the heap
    length: int  # archived (encoded) bytes
    size: int  # extracted bytes
    encoding: str
    archived_checksum: Checksum | None
    extracted_checksum: Checksum | None
    absolute_offset: int
    name: str | None = None  # an extended attribute's name

    @property
    def end(self) -> int:
        return self.absolute_offset + self.length


@dataclass(frozen=True)
class XarEntry:
    id: str
    path: str
    type: str  # file, directory, symlink, hardlink, fifo, ...
    mode: int | None
    data: XarData | None
    link: str | None
    eas: tuple[XarData, ...]
    toc_offset: int  # byte offset of the <file> element in the inflated TOC
    error: str | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class XarSignature:
    """A ``<signature>`` (``extended`` False) or ``<x-signature>`` element and its blob."""

    style: str
    extended: bool
    offset: int  # heap-relative
    size: int
    absolute_offset: int
    certificates: tuple[bytes, ...]  # DER, as listed in KeyInfo (leaf first)
    blob: bytes | None  # None when the range lies outside the file
    certificate_error: str | None = None


@dataclass(frozen=True)
class TicketTrailer:
    """A ticket appended after the archive between ``t8lr`` trailers."""

    offset: int  # absolute offset of the ticket bytes
    data: bytes
    terminator_found: bool


@dataclass(frozen=True)
class XarProblem:
    offset: int
    reason: str


@dataclass(frozen=True)
class XarArchive:
    path: str
    file_size: int
    header: XarHeader
    toc_offset: int
    toc_digest: bytes  # digest of the compressed TOC, by the header's algorithm ("" if none)
    checksum_style: str | None
    checksum_offset: int | None  # heap-relative
    checksum_size: int | None
    stored_checksum: bytes | None  # the digest stored in the heap
    heap_offset: int
    creation_time: str | None
    entries: tuple[XarEntry, ...]
    signatures: tuple[XarSignature, ...]
    archive_end: int  # end of the last heap range
    tail_offset: int
    tail_size: int
    ticket: TicketTrailer | None
    problems: tuple[XarProblem, ...] = field(default=())

    @property
    def checksum_matches(self) -> bool | None:
        if self.stored_checksum is None or not self.toc_digest:
            return None
        return self.stored_checksum == self.toc_digest

    @property
    def rsa_signature(self) -> XarSignature | None:
        return next((s for s in self.signatures if not s.extended), None)

    @property
    def cms_signature(self) -> XarSignature | None:
        return next((s for s in self.signatures if s.extended), None)

    def entry(self, path: str) -> XarEntry | None:
        return next((e for e in self.entries if e.path == path), None)

    @property
    def notarization_digest(self) -> tuple[int, bytes] | None:
        """What a notarization ticket names this package by: the stored TOC checksum,
        truncated to 20 bytes, with its hash type (1 SHA-1, 2 SHA-256; docs/formats.md 14)."""
        if self.stored_checksum is None:
            return None
        kind = {"sha1": 1, "sha256": 2, "sha384": 4, "sha512": 5}.get(self.checksum_style or "")
        if kind is None:
            return None
        return kind, self.stored_checksum[:20]


def read_xar(fh: BinaryIO, *, path: str, size: int | None = None) -> XarArchive:
    """Parse the archive in ``fh`` (seekable). Raises ``ParseError`` when the header or TOC
    cannot be read; heap problems are listed in ``problems`` and on the entries."""
    if size is None:
        fh.seek(0, io.SEEK_END)
        size = fh.tell()
    fh.seek(0)
    raw = fh.read(HEADER_SIZE)
    if len(raw) < HEADER_SIZE:
        raise ParseError(FMT, path, 0, f"the file has {len(raw)} bytes, less than a "
                         f"{HEADER_SIZE}-byte xar header")
    magic, hsize, version, tcl, tul, alg = HEADER.unpack(raw)
    if magic != MAGIC:
        raise ParseError(FMT, path, 0, f"magic is {magic!r}, not 'xar!'")
    if hsize < HEADER_SIZE:
        raise ParseError(FMT, path, 4, f"header size {hsize} is less than {HEADER_SIZE}")
    header = XarHeader(magic, hsize, version, tcl, tul, alg)
    problems: list[XarProblem] = []
    if hsize != HEADER_SIZE:
        problems.append(XarProblem(4, f"header size is {hsize}, not {HEADER_SIZE}: Apple's "
                                   "libxar reads the heap as if it were 28 (util.c "
                                   "xar_get_heap_offset), so Installer sees other bytes"))
    if tcl == 0 or hsize + tcl > size:
        raise ParseError(FMT, path, 8, f"the compressed TOC claims {tcl} bytes at offset "
                         f"{hsize} but the file has {size} bytes")
    if tul > MAX_TOC:
        raise ParseError(FMT, path, 16, f"the TOC claims {tul} inflated bytes; at most "
                         f"{MAX_TOC} are accepted")
    fh.seek(hsize)
    toc_compressed = fh.read(tcl)
    toc_xml = _inflate_toc(toc_compressed, tul, path, hsize)
    algorithm = CHECKSUM_NAMES.get(alg)
    toc_digest = b"" if algorithm in (None, "none") else \
        hashlib.new(str(algorithm), toc_compressed).digest()
    root = parse_xml(toc_xml, fmt=FMT, path=path, base=hsize, where="inflated TOC")
    if root.tag != "xar" or root.find("toc") is None:
        raise ParseError(FMT, path, hsize, f"the TOC's root is <{root.tag}>, not <xar><toc>")
    toc = root.find("toc")
    assert toc is not None
    heap = HEADER_SIZE + tcl  # as libxar computes it
    checksum = toc.find("checksum")
    style = checksum.attrs.get("style") if checksum is not None else None
    c_off = _int(checksum.child_text("offset")) if checksum is not None else None
    c_size = _int(checksum.child_text("size")) if checksum is not None else None
    stored: bytes | None = None
    if algorithm is not None and algorithm != "none" and style != algorithm:
        problems.append(XarProblem(24, f"the header's checksum algorithm is {algorithm} but "
                                   f"the TOC's checksum style is {style!r}: libxar refuses "
                                   "the archive (\"Checksum style mismatch!\")"))
    if c_off is not None and c_size is not None:
        if c_size > 64 or heap + c_off + c_size > size:
            problems.append(XarProblem(heap, f"the TOC checksum ({c_size} bytes at heap "
                                       f"offset {c_off}) lies outside the file"))
        else:
            fh.seek(heap + c_off)
            stored = fh.read(c_size)
    signatures = tuple(_signatures(toc, fh, heap, size, path, problems))
    entries: list[XarEntry] = []
    for element in toc.findall("file"):
        _entries(element, "", 0, heap, size, entries, problems)
    ranges = _ranges(entries, signatures, heap, c_off, c_size)
    _overlaps(ranges, problems)
    archive_end = max([heap + (c_off or 0) + (c_size or 0)] + [end for _, end, _ in ranges])
    archive_end = min(archive_end, size)
    ticket = _ticket_trailer(fh, archive_end, size, problems)
    return XarArchive(
        path=path, file_size=size, header=header, toc_offset=hsize, toc_digest=toc_digest,
        checksum_style=style, checksum_offset=c_off, checksum_size=c_size,
        stored_checksum=stored, heap_offset=heap, creation_time=toc.child_text("creation-time"),
        entries=tuple(entries), signatures=signatures, archive_end=archive_end,
        tail_offset=archive_end, tail_size=size - archive_end, ticket=ticket,
        problems=tuple(problems))


def _inflate_toc(data: bytes, declared: int, path: str, base: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_TOC + 1)
    except zlib.error as exc:
        raise ParseError(FMT, path, base, f"the TOC is not a zlib stream: {exc}") from None
    if len(out) > MAX_TOC or inflater.unconsumed_tail:
        raise ParseError(FMT, path, base, f"the TOC inflates to more than {MAX_TOC} bytes "
                         "(a decompression bomb)")
    if not inflater.eof:
        raise ParseError(FMT, path, base, "the TOC's zlib stream is truncated")
    if len(out) != declared:
        raise ParseError(FMT, path, 16, f"the TOC inflates to {len(out)} bytes, not the "
                         f"{declared} the header declares")
    return out


def _int(text: str | None) -> int | None:
    """A decimal TOC number (ASCII digits only: ``str.isdigit`` also takes "²")."""
    if text is None or not 0 < len(text) <= 20 or not set(text) <= _DIGITS:
        return None
    return int(text)


_DIGITS = frozenset("0123456789")


def _checksum(element: Element | None) -> Checksum | None:
    if element is None:
        return None
    return Checksum(element.attrs.get("style", ""), element.text.lower())


def _data(element: Element, heap: int, size: int, name: str | None = None) -> tuple[
        XarData | None, str | None]:
    offset = _int(element.child_text("offset"))
    length = _int(element.child_text("length"))
    extracted = _int(element.child_text("size"))
    if offset is None or length is None or extracted is None:
        return None, "its <data> lacks a numeric offset, length or size"
    enc = element.find("encoding")
    encoding = enc.attrs.get("style", "application/octet-stream") if enc is not None else \
        "application/octet-stream"
    data = XarData(offset, length, extracted, encoding, _checksum(element.find(
        "archived-checksum")), _checksum(element.find("extracted-checksum")),
        heap + offset, name)
    if data.end > size:
        return data, (f"its data ({length} bytes at heap offset {offset}, file offset "
                      f"{heap + offset}) runs past the end of the file ({size} bytes)")
    return data, None


def _safe_name(name: str, entry_id: str) -> tuple[str, str | None]:
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        return f"_invalid_name_{entry_id}", f"its name {name!r} is not a single path component"
    return name, None


def _entries(element: Element, parent: str, depth: int, heap: int, size: int,
             out: list[XarEntry], problems: list[XarProblem]) -> None:
    entry_id = element.attrs.get("id", "")
    if depth >= MAX_TREE_DEPTH:
        raise ParseError(FMT, "", heap, f"TOC byte {element.offset}: directories nested "
                         f"deeper than {MAX_TREE_DEPTH}")
    name, error = _safe_name(element.child_text("name") or "", entry_id)
    path = f"{parent}/{name}" if parent else name
    kind = element.child_text("type") or "file"
    data = None
    d = element.find("data")
    if d is not None:
        data, data_error = _data(d, heap, size)
        error = error or data_error
    eas: list[XarData] = []
    for ea in element.findall("ea"):
        ea_data, ea_error = _data(ea, heap, size, ea.child_text("name") or "")
        if ea_data is not None:
            eas.append(ea_data)
        if ea_error:
            problems.append(XarProblem(heap, f"{path}: extended attribute "
                                       f"{ea.child_text('name')!r}: {ea_error}"))
    mode_text = element.child_text("mode")
    mode = int(mode_text, 8) & 0o7777 if mode_text and len(mode_text) < 12 \
        and set(mode_text) <= set("01234567") else None
    if error:
        problems.append(XarProblem(data.absolute_offset if data else heap, f"{path}: {error}"))
    out.append(XarEntry(entry_id, path, kind, mode, data, element.child_text("link"),
                        tuple(eas), element.offset, error))
    for child in element.findall("file"):
        _entries(child, path, depth + 1, heap, size, out, problems)


def _signatures(toc: Element, fh: BinaryIO, heap: int, size: int, path: str,
                problems: list[XarProblem]) -> Iterator[XarSignature]:
    import binascii

    for element in toc.children:
        if element.tag not in ("signature", "x-signature"):
            continue
        offset = _int(element.child_text("offset"))
        length = _int(element.child_text("size"))
        style = element.attrs.get("style", "")
        if offset is None or length is None:
            problems.append(XarProblem(heap, f"<{element.tag}> has no numeric offset/size"))
            continue
        certs: list[bytes] = []
        cert_error = None
        key_info = element.find("KeyInfo")
        x509 = key_info.find("X509Data") if key_info is not None else None
        for cert in x509.findall("X509Certificate") if x509 is not None else []:
            try:
                certs.append(binascii.a2b_base64(cert.text))
            except binascii.Error as exc:
                cert_error = f"a KeyInfo certificate is not base64: {exc}"
        blob = None
        start = heap + offset
        if length > MAX_SIGNATURE or start + length > size:
            problems.append(XarProblem(start, f"the {style} signature ({length} bytes at heap "
                                       f"offset {offset}) lies outside the file or is too "
                                       "large"))
        else:
            fh.seek(start)
            blob = fh.read(length)
        yield XarSignature(style, element.tag == "x-signature", offset, length, start,
                           tuple(certs[:16]), blob, cert_error)


def _ranges(entries: list[XarEntry], signatures: tuple[XarSignature, ...], heap: int,
            c_off: int | None, c_size: int | None) -> list[tuple[int, int, str]]:
    ranges: list[tuple[int, int, str]] = []
    if c_off is not None and c_size is not None:
        ranges.append((heap + c_off, heap + c_off + c_size, "the TOC checksum"))
    for sig in signatures:
        ranges.append((sig.absolute_offset, sig.absolute_offset + sig.size,
                       f"the {sig.style} signature"))
    for entry in entries:
        if entry.data is not None:
            ranges.append((entry.data.absolute_offset, entry.data.end, entry.path))
        for ea in entry.eas:
            ranges.append((ea.absolute_offset, ea.end, f"{entry.path} attribute {ea.name}"))
    return ranges


def _overlaps(ranges: list[tuple[int, int, str]], problems: list[XarProblem]) -> None:
    """Report heap ranges that partly overlap (identical ranges are libxar's coalescing)."""
    ordered = sorted(r for r in ranges if r[1] > r[0])
    reach: tuple[int, int, str] | None = None
    for current in ordered:
        if reach is not None and current[0] < reach[1] and current[:2] != reach[:2]:
            problems.append(XarProblem(current[0], f"heap range of {current[2]} "
                                       f"[{current[0]}, {current[1]}) overlaps {reach[2]} "
                                       f"[{reach[0]}, {reach[1]})"))
            if len(problems) > 64:
                return
        if reach is None or current[1] > reach[1]:
            reach = current


def _ticket_trailer(fh: BinaryIO, archive_end: int, size: int,
                    problems: list[XarProblem]) -> TicketTrailer | None:
    """A stapled ticket: ``t8lr`` terminator, ticket, ``t8lr`` ticket trailer at the end."""
    if size - archive_end < 2 * TRAILER.size:
        return None
    fh.seek(size - TRAILER.size)
    magic, _version, kind, length, _unused = TRAILER.unpack(fh.read(TRAILER.size))
    if magic != TRAILER_MAGIC or kind != TRAILER_TICKET:
        return None
    start = size - TRAILER.size - length
    if length > MAX_TAIL or start < archive_end:
        problems.append(XarProblem(size - TRAILER.size, f"the ticket trailer claims {length} "
                                   "bytes, more than lie after the archive"))
        return None
    fh.seek(start)
    data = fh.read(length)
    terminator = False
    if start - TRAILER.size >= archive_end:
        fh.seek(start - TRAILER.size)
        t_magic, _v, t_kind, _l, _u = TRAILER.unpack(fh.read(TRAILER.size))
        terminator = t_magic == TRAILER_MAGIC and t_kind == TRAILER_TERMINATOR
    return TicketTrailer(start, data, terminator)


# --- the archive as a file tree --------------------------------------------------------------

_KINDS = {"file": NodeKind.FILE, "directory": NodeKind.DIRECTORY, "symlink": NodeKind.SYMLINK}
_TYPE_BITS = {NodeKind.FILE: 0o100000, NodeKind.DIRECTORY: 0o040000, NodeKind.SYMLINK: 0o120000,
              NodeKind.OTHER: 0}


class XarVolume:
    """The archive's files as a ``parsers.volume.Volume`` (for a product archive, the
    component packages are directories here: ``sub.pkg/Payload``)."""

    def __init__(self, archive: XarArchive, fh: BinaryIO, name: str = "") -> None:
        self.archive = archive
        self.fh = fh
        self.name = name or archive.path

    def walk(self) -> Iterator[Node]:
        for entry in self.archive.entries:
            kind = _KINDS.get(entry.type, NodeKind.OTHER)
            size = entry.data.size if entry.data is not None else 0
            mode = (entry.mode if entry.mode is not None else 0o644) | _TYPE_BITS[kind]
            yield Node(entry.path, kind, size, mode, entry.link if kind is NodeKind.SYMLINK
                       else None, entry.data.absolute_offset if entry.data else None,
                       entry.error)

    def source(self, path: str) -> ByteSource:
        """The decoded bytes of the file at ``path`` as a random-access source."""
        entry = self.archive.entry(path)
        if entry is None or entry.data is None or entry.error:
            raise ParseError(FMT, self.archive.path, None, f"{path}: no readable data")
        return data_source(self.fh, entry.data, path=self.archive.path, what=path)

    def open(self, path: str) -> BinaryIO:
        return SourceReader(self.source(path))  # type: ignore[return-value]

    def read(self, path: str, limit: int) -> bytes:
        """The whole decoded file, refusing more than ``limit`` bytes."""
        src = self.source(path)
        data = src.read_at(0, limit + 1)
        if len(data) > limit:
            raise ParseError(FMT, self.archive.path, src.base, f"{path} is larger than "
                             f"{limit} bytes")
        return data


def data_source(fh: BinaryIO, data: XarData, *, path: str, what: str) -> ByteSource:
    stored = FileRange(fh, data.absolute_offset, data.length, fmt=FMT, path=path)
    kind = ENCODINGS.get(data.encoding, "unknown")
    if kind is None:
        return stored
    if kind == "unknown":
        raise ParseError(FMT, path, data.absolute_offset, f"{what}: unknown encoding "
                         f"{data.encoding!r}")
    return InflateStream(stored, kind, max_size=data.size, what=what)


def verify_data(fh: BinaryIO, data: XarData, *, path: str, what: str) -> list[str]:
    """Check a heap range's archived and extracted checksums; the reasons they fail."""
    problems: list[str] = []
    for label, checksum in (("archived", data.archived_checksum),
                            ("extracted", data.extracted_checksum)):
        if checksum is None or checksum.style not in DIGEST_SIZES:
            continue
        digest = hashlib.new(checksum.style)
        try:
            source: ByteSource = FileRange(fh, data.absolute_offset, data.length, fmt=FMT,
                                           path=path) if label == "archived" else \
                data_source(fh, data, path=path, what=what)
            pos = 0
            while chunk := source.read_at(pos, 1 << 20):
                digest.update(chunk)
                pos += len(chunk)
        except ParseError as err:
            problems.append(f"{what}: {err.reason}")
            continue
        if digest.hexdigest() != checksum.value:
            problems.append(f"{what}: the {label} {checksum.style} checksum is "
                            f"{digest.hexdigest()}, the TOC says {checksum.value}")
    return problems
