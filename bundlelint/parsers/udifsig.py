"""A disk image's own code signature: the SuperBlob the koly trailer points at.

Why its own module: the signature is read with the same SuperBlob parser as a Mach-O's, but
what it covers differs (Security ``DiskImageRep``, docs/formats.md 8.5): every byte before the
signature, in one hash (page size 0), and the trailer itself in special slot 6 with its
signature length zeroed. This module finds the blob, checks its frame as ``DiskImageRep::setup``
does, and names the bytes the hashes cover; verifying them is analysis work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from bundlelint.errors import ParseError
from bundlelint.parsers.codesign import EmbeddedSignature, read_embedded_signature
from bundlelint.parsers.udif import FORMAT, Koly

#: Slot of the stapled notarization ticket in a disk image's SuperBlob (codedirectory.h
#: ``cdTicketSlot``).
TICKET_SLOT = 0x10002
#: The CodeDirectory's special slot that hashes the trailer (codedirectory.h
#: ``cdRepSpecificSlot``).
REP_SPECIFIC_SLOT = 6


@dataclass(frozen=True)
class ImageSignature:
    """The image's signature (``signature`` is None when it could not be parsed: ``error``).

    ``signing_limit`` is where the signed data ends (the signature's offset);
    ``rep_specific`` is the 512 bytes special slot 6 must hash; ``ticket_offset`` and
    ``ticket_length`` locate the stapled ticket's payload (after its 8-byte blob header).
    """

    offset: int
    length: int
    signing_limit: int
    rep_specific: bytes
    signature: EmbeddedSignature | None
    error: ParseError | None
    ticket_offset: int | None = None
    ticket_length: int = 0


def rep_specific_bytes(koly: Koly) -> bytes:
    """The trailer as DiskImageRep hashes it: as stored, code-signature length zeroed."""
    raw = bytearray(koly.raw)
    raw[0x130:0x138] = bytes(8)
    return bytes(raw)


def read_image_signature(fh: BinaryIO, koly: Koly, path: str = "") -> ImageSignature | None:
    """The signature of the image whose trailer is ``koly``, or None when it is unsigned.

    A blob that does not fill exactly the space between its offset and the trailer, or whose
    length differs from the trailer's, is an error (``DiskImageRep::setup`` refuses it with
    errSecCSBadDiskImageFormat), reported in ``error`` with its offset.
    """
    offset, length = koly.code_signature_offset, koly.code_signature_length
    if offset == 0:
        return None
    rep = rep_specific_bytes(koly)
    frame = koly.offset - offset
    if offset > koly.offset:
        err = ParseError(FORMAT, path, koly.offset + 0x128,
                         f"code signature offset {offset:#x} is past the trailer")
        return ImageSignature(offset, length, offset, rep, None, err)
    if length != frame:
        err = ParseError(FORMAT, path, koly.offset + 0x130,
                         f"code signature length {length:#x} does not fill the {frame:#x} bytes "
                         "between the signature and the trailer (Security DiskImageRep::setup "
                         "refuses such an image)")
        return ImageSignature(offset, length, offset, rep, None, err)

    def read(at: int, size: int) -> bytes:
        fh.seek(offset + at)
        return fh.read(max(min(size, frame - at), 0))

    try:
        sig = read_embedded_signature(read, frame, path=path, base=offset)
    except ParseError as parse_error:
        return ImageSignature(offset, length, offset, rep, None, parse_error)
    if sig.length != frame:
        err = ParseError(FORMAT, path, offset + 4,
                         f"SuperBlob length {sig.length:#x} is not the {frame:#x} bytes before "
                         "the trailer (Security DiskImageRep::setup refuses such an image)")
        return ImageSignature(offset, length, offset, rep, sig, err)
    ticket = next((b for b in sig.blobs if b.slot == TICKET_SLOT), None)
    return ImageSignature(
        offset, length, offset, rep, sig, None,
        ticket_offset=ticket.offset + 8 if ticket else None,
        ticket_length=ticket.length - 8 if ticket else 0)

