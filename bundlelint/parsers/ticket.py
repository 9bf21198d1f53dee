"""Stapled notarization tickets (magic ``s8ch``), decoded completely.

Where a ticket is stapled (docs/formats.md 14): an app's
``Contents/CodeResources`` file is the raw ticket; a disk image's code signature holds it in
SuperBlob slot 0x10002 inside a BlobWrapper (0xfade0b01); a flat package has it after the xar
archive between two 16-byte ``t8lr`` trailers (``parsers.xar``).

Layout, established from the real tickets of a notarized package and disk image and checked by
verifying their signatures (all integers little-endian):

- header, 16 bytes: ``s8ch``, version (1), length of the certificates, length of the content;
- certificates: a DER ``SEQUENCE OF Certificate``: the signer ("Software Ticket Signing") then
  its issuer ("Apple System Integration CA 4", issued by Apple Root CA - G3);
- content: ``g8tk``, u16 version (2), u16 hash length (20), u32 number of hashes, u32 flags,
  u64 time (Unix seconds), then per hash one byte of hash type (1 SHA-1, 2 SHA-256 truncated,
  the CodeDirectory hash types) and the hash;
- signature: the rest, an ECDSA signature (DER) with SHA-256 over header, certificates and
  content, by the signer certificate's key.

What the hashes are: for code, its cdhashes (one per CodeDirectory, truncated to 20 bytes);
for a disk image, the image's own cdhash; for a package, the xar TOC checksum. A ticket lists
the notarized artifact and the code inside it.
"""

from __future__ import annotations

import datetime as _dt
import struct
from dataclasses import dataclass

from bundlelint.errors import ParseError

FMT = "notarization ticket"
MAGIC = b"s8ch"
CONTENT_MAGIC = b"g8tk"
HEADER = struct.Struct("<4sIII")
CONTENT_HEADER = struct.Struct("<4sHHIIQ")
#: A ticket larger than this is refused (real ones are under 2 KB plus 21 bytes per hash).
MAX_TICKET = 4 * 1024 * 1024
MAX_HASHES = 100_000
HASH_TYPES = {1: "sha1", 2: "sha256", 3: "sha256-truncated", 4: "sha384", 5: "sha512"}


@dataclass(frozen=True)
class TicketHash:
    hash_type: int
    digest: bytes

    @property
    def type_name(self) -> str:
        return HASH_TYPES.get(self.hash_type, f"type {self.hash_type}")


@dataclass(frozen=True)
class Ticket:
    offset: int  # absolute offset of the ticket in its file
    version: int
    certificates: tuple[bytes, ...]  # DER, signer first
    content_version: int
    flags: int
    time: _dt.datetime | None
    hashes: tuple[TicketHash, ...]
    signed_data: bytes  # header + certificates + content: what the signature covers
    signature: bytes  # DER ECDSA

    def covers(self, digest: bytes) -> bool:
        """Whether ``digest`` (any length: compared on the ticket's hash length) is listed."""
        return any(h.digest == digest[:len(h.digest)] for h in self.hashes)


def looks_like_ticket(data: bytes) -> bool:
    return data[:4] == MAGIC


def parse_ticket(data: bytes, *, path: str = "", base: int = 0) -> Ticket:
    """Decode the ticket in ``data`` (``base``: its absolute offset, for errors)."""
    if len(data) > MAX_TICKET:
        raise ParseError(FMT, path, base, f"{len(data)} bytes is larger than any ticket "
                         f"({MAX_TICKET})")
    if len(data) < HEADER.size:
        raise ParseError(FMT, path, base, f"{len(data)} bytes is shorter than the header")
    magic, version, certs_len, content_len = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ParseError(FMT, path, base, f"magic is {magic!r}, not 's8ch'")
    if HEADER.size + certs_len + content_len > len(data):
        raise ParseError(FMT, path, base + 8, f"the header claims {certs_len} bytes of "
                         f"certificates and {content_len} of content, but the ticket has "
                         f"{len(data) - HEADER.size} after its header")
    certs_at = HEADER.size
    content_at = certs_at + certs_len
    sig_at = content_at + content_len
    certificates = _certificates(data[certs_at:content_at], path, base + certs_at)
    content = data[content_at:sig_at]
    if len(content) < CONTENT_HEADER.size:
        raise ParseError(FMT, path, base + content_at, "the content is shorter than its header")
    c_magic, c_version, hash_len, count, flags, seconds = CONTENT_HEADER.unpack_from(content)
    if c_magic != CONTENT_MAGIC:
        raise ParseError(FMT, path, base + content_at, f"content magic is {c_magic!r}, "
                         "not 'g8tk'")
    if not 1 <= hash_len <= 64 or count > MAX_HASHES or \
            CONTENT_HEADER.size + count * (1 + hash_len) > len(content):
        raise ParseError(FMT, path, base + content_at + 8, f"{count} hashes of {hash_len} "
                         f"bytes do not fit in {len(content)} bytes of content")
    hashes = []
    at = CONTENT_HEADER.size
    for _ in range(count):
        hashes.append(TicketHash(content[at], bytes(content[at + 1:at + 1 + hash_len])))
        at += 1 + hash_len
    try:
        when: _dt.datetime | None = _dt.datetime.fromtimestamp(seconds, _dt.UTC)
    except (OverflowError, OSError, ValueError):
        when = None
    rest = bytes(data[sig_at:])
    if not rest:
        raise ParseError(FMT, path, base + sig_at, "the ticket has no signature")
    # The DER signature may be followed by zero padding (the disk image sample pads the
    # ticket to 4 bytes inside its BlobWrapper).
    value_at, value_len = _tlv(rest, 0, path, base + sig_at, 0x30)
    signature = rest[:value_at + value_len]
    if rest[len(signature):].strip(b"\0"):
        raise ParseError(FMT, path, base + sig_at + len(signature), "bytes other than zero "
                         "padding follow the signature")
    return Ticket(base, version, certificates, c_version, flags, when, tuple(hashes),
                  bytes(data[:sig_at]), signature)


def _certificates(der: bytes, path: str, base: int) -> tuple[bytes, ...]:
    """Split a DER SEQUENCE OF Certificate into each certificate's DER (not decoded here)."""
    if not der:
        return ()
    body_at, body_len = _tlv(der, 0, path, base, 0x30)
    if body_at + body_len != len(der):
        raise ParseError(FMT, path, base, "the certificate list's length disagrees with the "
                         "ticket header")
    out = []
    at = body_at
    while at < len(der):
        inner_at, inner_len = _tlv(der, at, path, base, 0x30)
        out.append(bytes(der[at:inner_at + inner_len]))
        at = inner_at + inner_len
        if len(out) > 16:
            raise ParseError(FMT, path, base + at, "more than 16 certificates")
    return tuple(out)


def _tlv(der: bytes, at: int, path: str, base: int, tag: int) -> tuple[int, int]:
    """The value offset and length of the DER element at ``at`` (which must be ``tag``)."""
    if at + 2 > len(der) or der[at] != tag:
        raise ParseError(FMT, path, base + at, "expected a DER SEQUENCE")
    first = der[at + 1]
    if first < 0x80:
        return at + 2, first
    n = first & 0x7F
    if n == 0 or n > 4 or at + 2 + n > len(der):
        raise ParseError(FMT, path, base + at, "bad DER length")
    length = int.from_bytes(der[at + 2:at + 2 + n], "big")
    if at + 2 + n + length > len(der):
        raise ParseError(FMT, path, base + at, f"a DER element of {length} bytes runs past "
                         "the certificate list")
    return at + 2 + n, length


def ticket_from_wrapper(blob: bytes, *, path: str = "", base: int = 0) -> Ticket:
    """The ticket in a disk image signature's slot 0x10002: a BlobWrapper (0xfade0b01, u32 BE
    length including its 8-byte header) around the ticket."""
    if len(blob) < 8 or blob[:4] != b"\xfa\xde\x0b\x01":
        raise ParseError(FMT, path, base, "slot 0x10002 is not a BlobWrapper")
    length = int.from_bytes(blob[4:8], "big")
    if length < 8 or length > len(blob):
        raise ParseError(FMT, path, base + 4, f"the BlobWrapper claims {length} bytes of "
                         f"{len(blob)}")
    return parse_ticket(blob[8:length], path=path, base=base + 8)
