"""Verifying a disk image's own signature the way Security's DiskImageRep does.

Why analysis: the hashes cover every byte of the image before its signature, so checking them
reads the file again; rules only read the result. What is hashed (docs/formats.md 8.5):
code slot 0 = one hash (page size 0) over [0, signature offset), special slot 6 = the koly
trailer with its signature length zeroed, special slot 2 = the requirements blob; the
CodeDirectory's code limit must be the signature's offset (``DiskImageRep::strictValidate``).
The CMS is verified by the same code as a Mach-O's (analysis/cms.py).
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, replace
from typing import BinaryIO

from bundlelint.analysis.cms import CmsVerification, LeafKind, verify_embedded_signature
from bundlelint.analysis.ticket import TicketCheck, check_ticket
from bundlelint.bundle import Bundle
from bundlelint.errors import ParseError
from bundlelint.inputs.safeopen import FileIdentity, open_binary
from bundlelint.options import Options
from bundlelint.parsers.codesign import CSSLOT_REQUIREMENTS, CodeDirectory
from bundlelint.parsers.diskimage import DiskImageReport
from bundlelint.parsers.ticket import MAX_TICKET
from bundlelint.parsers.udifsig import REP_SPECIFIC_SLOT, ImageSignature

_HASHES = {1: ("sha1", 20), 2: ("sha256", 32), 3: ("sha256", 20), 4: ("sha384", 48)}
_READ = 1 << 20


class ImageSigning(enum.Enum):
    UNSIGNED = "unsigned"
    UNREADABLE = "unreadable"  # the trailer points at something that is not a valid signature
    ADHOC = "ad-hoc"
    CERTIFICATE = "certificate"


@dataclass(frozen=True)
class ImageSignatureCheck:
    """What the image's signature is and every way it fails to cover the image (each problem
    names the offset it is about)."""

    state: ImageSigning
    problems: tuple[str, ...] = ()
    identifier: str | None = None
    cd_team_id: str | None = None
    verification: CmsVerification | None = None
    offset: int | None = None  # where the signature (or the broken part) is

    @property
    def leaf_kind(self) -> LeafKind:
        return self.verification.leaf_kind if self.verification else LeafKind.NONE

    @property
    def is_developer_id(self) -> bool:
        return (self.leaf_kind is LeafKind.DEVELOPER_ID_APPLICATION
                and self.verification is not None and self.verification.chain is not None
                and self.verification.chain.trusted)


def _anchors_key(options: Options) -> str:
    return hashlib.sha256(b"".join(options.extra_trust_anchors)).hexdigest()[:16]


def image_signature(bundle: Bundle, options: Options) -> ImageSignatureCheck | None:
    """The verified signature of a disk-image input (memoised), when its trailer reads."""
    report = bundle.disk_image
    if report is None or report.koly is None:
        return None
    return bundle.memo("diskimage-signature", _anchors_key(options),
                       lambda: check_image_signature(report, options))


def image_ticket(bundle: Bundle, options: Options) -> TicketCheck | None:
    """The ticket stapled in slot 0x10002 of a disk image's signature (memoised), checked
    against the image's own cdhash; None when there is none."""
    report = bundle.disk_image
    check = image_signature(bundle, options)
    sig = report.signature if report is not None else None
    if report is None or check is None or sig is None or sig.ticket_offset is None:
        return None
    offset, length = sig.ticket_offset, sig.ticket_length
    cd = sig.signature.primary if sig.signature else None
    own = (("the disk image", cd.hash_type, cd.cdhash) if cd is not None else None)

    def compute() -> TicketCheck:
        where = f"{report.name} (signature slot 0x10002)"
        try:
            with _open(report) as fh:
                fh.seek(offset)
                data = fh.read(min(length, MAX_TICKET + 1))
        except OSError as exc:
            err = ParseError("ticket", report.name, offset,
                             f"the image cannot be read again: {exc.strerror or exc}")
            return TicketCheck(where, offset, None, err, None, None, None, ())
        from bundlelint.analysis.containers import code_coverage

        found = check_ticket(data, where=where,
                             offset=offset, own=own, anchors=options.extra_trust_anchors)
        return replace(found, contained=code_coverage(bundle, found))

    return bundle.memo("diskimage-ticket", _anchors_key(options), compute)


def check_image_signature(report: DiskImageReport,
                          options: Options | None = None) -> ImageSignatureCheck:
    """Verify ``report``'s signature against the image bytes at ``report.path``."""
    sig = report.signature
    if sig is None:
        return ImageSignatureCheck(ImageSigning.UNSIGNED)
    if sig.signature is None or sig.signature.primary is None:
        reason = sig.error.reason if sig.error else "the SuperBlob has no CodeDirectory"
        offset = sig.error.offset if sig.error else sig.offset
        return ImageSignatureCheck(ImageSigning.UNREADABLE, (reason,), offset=offset)
    cd = sig.signature.primary
    problems = [sig.error.reason] if sig.error else []
    problems += _hash_problems(report, sig, cd)
    verification = verify_embedded_signature(sig.signature, report.name, "",
                                             options or Options())
    state = (ImageSigning.CERTIFICATE if sig.signature.kind == "certificate"
             else ImageSigning.ADHOC)
    if state is ImageSigning.CERTIFICATE:
        problems += [f"CMS: {p}" for p in verification.problems]
    return ImageSignatureCheck(state, tuple(problems), identifier=cd.identifier,
                               cd_team_id=cd.team_id, verification=verification,
                               offset=sig.offset)


def _hash_problems(report: DiskImageReport, sig: ImageSignature,
                   cd: CodeDirectory) -> list[str]:
    algorithm = _HASHES.get(cd.hash_type)
    if algorithm is None:
        return [f"the CodeDirectory's hash type {cd.hash_type} is not one Security knows"]
    name, size = algorithm
    problems = []
    limit = sig.signing_limit
    if cd.code_limit not in (limit, report.file_size):
        problems.append(f"the CodeDirectory covers {cd.code_limit} bytes, but the image's data "
                        f"ends at the signature offset {limit:#x} (Security "
                        "DiskImageRep::strictValidate refuses any other limit)")
    else:
        problems += _code_hash_problems(report, cd, name, size)
    expected = cd.special_slot_hash(REP_SPECIFIC_SLOT)
    actual = hashlib.new(name, sig.rep_specific).digest()[:size]
    if expected is None or expected != actual:
        problems.append(f"special slot 6 does not hold the hash of the koly trailer at "
                        f"{report.file_size - 512:#x} (the trailer changed after signing)")
    requirements = sig.signature.requirements if sig.signature else None
    expected_req = cd.special_slot_hash(CSSLOT_REQUIREMENTS)
    if (requirements is not None and expected_req is not None and any(expected_req)
            and hashlib.new(name, requirements).digest()[:size] != expected_req):
        problems.append("special slot 2 does not hold the hash of the requirements blob")
    return problems


def _open(report: DiskImageReport) -> BinaryIO:
    """The image file again, refused unless it is the file that was read (safeopen)."""
    expect = FileIdentity(*report.identity) if report.identity is not None else None
    return open_binary(report.path, expect=expect)


def _code_hash_problems(report: DiskImageReport, cd: CodeDirectory, name: str,
                        size: int) -> list[str]:
    """Hash [0, code limit) page by page (one page when the page size is 0) and compare."""
    page = cd.page_size or cd.code_limit
    pages = (cd.code_limit + page - 1) // page if cd.code_limit else 0
    if pages != cd.n_code_slots:
        return [f"the CodeDirectory has {cd.n_code_slots} code hashes for {pages} pages of "
                f"{page} bytes"]
    try:
        return _hash_pages(report, cd, name, size, page, pages)
    except OSError as exc:
        return [f"the image cannot be read again to check its hashes: {exc.strerror or exc}"]


def _hash_pages(report: DiskImageReport, cd: CodeDirectory, name: str, size: int, page: int,
                pages: int) -> list[str]:
    problems: list[str] = []
    with _open(report) as fh:
        for index in range(pages):
            start = index * page
            end = min(start + page, cd.code_limit)
            digest = hashlib.new(name)
            fh.seek(start)
            remaining = end - start
            while remaining:
                piece = fh.read(min(_READ, remaining))
                if not piece:
                    return [f"the image ends before the CodeDirectory's code limit "
                            f"{cd.code_limit:#x}"]
                digest.update(piece)
                remaining -= len(piece)
            if digest.digest()[:size] != cd.code_slot_hash(index):
                problems.append(f"the hash of bytes [{start:#x}, {end:#x}) is not code slot "
                                f"{index}: the image changed after signing")
                if len(problems) >= 3:
                    break
    return problems
