"""An installer package checked as Installer and the notary see it: archive integrity, the
package signatures and their certificate, the descriptions, payloads, scripts and the stapled
ticket (docs/formats.md 13, 14).

Signatures (libxar ``signature.c``; checked on the real signed sample): the signed data is the
TOC checksum stored in the heap. ``<signature style="RSA">`` is PKCS#1 v1.5 with that checksum
as the digest (the checksum's own algorithm names the DigestInfo); ``<x-signature
style="CMS">`` is a detached SignedData whose messageDigest is over the checksum. Both carry
the certificate chain; the leaf must be Developer ID Installer (OID ...6.1.14) chaining to
Apple Root CA. The chain is checked with ``analysis.cms`` (pinned roots, extra anchors).
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from typing import BinaryIO

from bundlelint.analysis.cms import (
    ChainResult,
    ChainStatus,
    LeafKind,
    TimestampVerification,
    build_chain,
    leaf_kind,
)
from bundlelint.analysis.ticket import TicketCheck, check_ticket
from bundlelint.errors import ParseError
from bundlelint.parsers.package import PackageVolume
from bundlelint.parsers.pkginfo import Distribution, PackageInfo, parse_distribution
from bundlelint.parsers.xar import XarArchive, XarSignature, verify_data

#: Files whose checksums are verified eagerly (descriptions and scripts; payloads are checked
#: while their contents are read, and by their sizes).
SMALL_FILE = 16 * 1024 * 1024


@dataclass(frozen=True)
class SignatureCheck:
    style: str  # "RSA" or "CMS"
    offset: int
    chain: ChainResult
    leaf_kind: LeafKind
    problems: tuple[str, ...]
    signing_time: datetime.datetime | None = None
    timestamp: TimestampVerification | None = None

    @property
    def leaf_name(self) -> str | None:
        return self.chain.certificates[0].name if self.chain.certificates else None

    @property
    def team_id(self) -> str | None:
        return self.chain.certificates[0].subject_ou if self.chain.certificates else None


@dataclass(frozen=True)
class Component:
    """A component package: the root of a component archive ("") or ``sub.pkg``."""

    path: str
    info: PackageInfo | None
    info_error: ParseError | None
    payload: str | None  # compression of the Payload, None if there is none
    payload_error: ParseError | None
    scripts: tuple[str, ...]  # script files in the Scripts archive


@dataclass(frozen=True)
class PackageReport:
    name: str
    archive: XarArchive
    damaged: tuple[tuple[int | None, str], ...]  # (offset, reason): libxar or Installer refuse
    signatures: tuple[SignatureCheck, ...]
    distribution: Distribution | None
    distribution_error: ParseError | None
    components: tuple[Component, ...]
    ticket: TicketCheck | None

    @property
    def signed(self) -> bool:
        return bool(self.archive.signatures)

    @property
    def primary(self) -> SignatureCheck | None:
        """The signature Installer trusts: the CMS one when present, else RSA."""
        cms = [s for s in self.signatures if s.style == "CMS"]
        return cms[0] if cms else (self.signatures[0] if self.signatures else None)


def package_report(volume: PackageVolume, anchors: tuple[bytes, ...] = ()) -> PackageReport:
    archive = volume.archive
    fh = volume.fh
    damaged: list[tuple[int | None, str]] = [(p.offset, p.reason) for p in archive.problems]
    if archive.checksum_matches is False:
        damaged.append((archive.heap_offset + (archive.checksum_offset or 0),
                        "the TOC checksum stored in the heap is not the digest of the TOC "
                        "(libxar: \"Checksums do not match!\")"))
    if archive.header.checksum_alg in (0, 2) or archive.header.checksum_alg > 4:
        damaged.append((24, f"the TOC checksum algorithm is {archive.header.checksum_name}: "
                        "libxar refuses none and MD5"))
    for entry in archive.entries:
        if entry.data is not None and not entry.error and entry.data.length <= SMALL_FILE \
                and entry.name != "Payload":
            for reason in verify_data(fh, entry.data, path=volume.name, what=entry.path):
                damaged.append((entry.data.absolute_offset, reason))
    signatures = tuple(_check(sig, archive, anchors) for sig in archive.signatures)
    distribution = None
    dist_error = None
    dist_entry = archive.entry("Distribution")
    if dist_entry is not None and dist_entry.data is not None and not dist_entry.error:
        try:
            distribution = parse_distribution(volume.xar.read("Distribution", 4 << 20),
                                              path=volume.name,
                                              base=dist_entry.data.absolute_offset)
        except ParseError as err:
            dist_error = err
    components = tuple(_component(volume, path) for path in _component_paths(archive))
    ticket = None
    if archive.ticket is not None:
        own = archive.notarization_digest
        ticket = check_ticket(archive.ticket.data, where=volume.name,
                              offset=archive.ticket.offset,
                              own=None if own is None else ("the package", own[0], own[1]),
                              anchors=anchors)
    return PackageReport(volume.name, archive, tuple(damaged), signatures, distribution,
                         dist_error, components, ticket)


def _component_paths(archive: XarArchive) -> list[str]:
    paths = []
    for entry in archive.entries:
        if entry.name == "PackageInfo" or (entry.name == "Payload" and entry.type == "file"):
            parent = entry.path.rpartition("/")[0]
            if parent not in paths:
                paths.append(parent)
    return paths


def _component(volume: PackageVolume, path: str) -> Component:
    info = volume.package_info(path)
    payload_path = f"{path}/Payload" if path else "Payload"
    scripts_path = f"{path}/Scripts" if path else "Scripts"
    compression = None
    payload_error = None
    if volume.archive.entry(payload_path) is not None:
        cpio = volume._cpio(payload_path)
        compression, payload_error = cpio.compression, cpio.error
    scripts: tuple[str, ...] = ()
    if volume.archive.entry(scripts_path) is not None:
        cpio = volume._cpio(scripts_path)
        if cpio.volume is not None:
            scripts = tuple(n.path for n in cpio.volume.walk() if n.kind.value == "file")
    return Component(path, info if isinstance(info, PackageInfo) else None,
                     info if isinstance(info, ParseError) else None, compression, payload_error,
                     scripts)


def _certificates(sig: XarSignature) -> list[object]:
    from bundlelint.parsers.cms import parse_certificate

    out: list[object] = []
    for der in sig.certificates:
        try:
            out.append(parse_certificate(der))
        except (ValueError, TypeError):
            continue
    return out


def _anchor_certs(anchors: tuple[bytes, ...]) -> list[object]:
    from bundlelint.parsers.cms import parse_certificate

    out: list[object] = []
    for der in anchors:
        try:
            out.append(parse_certificate(der))
        except (ValueError, TypeError):
            continue
    return out


def _check(sig: XarSignature, archive: XarArchive, anchors: tuple[bytes, ...]) -> SignatureCheck:
    if sig.extended:
        return _check_cms(sig, archive, anchors)
    return _check_rsa(sig, archive, anchors)


def _no_chain(reason: str) -> ChainResult:
    return ChainResult((), ChainStatus.NO_LEAF, (reason,), None)


def _check_rsa(sig: XarSignature, archive: XarArchive,
               anchors: tuple[bytes, ...]) -> SignatureCheck:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

    from bundlelint.analysis.cms import _load
    from bundlelint.parsers.cms import Certificate

    certs = [c for c in _certificates(sig) if isinstance(c, Certificate)]
    problems: list[str] = []
    if sig.certificate_error:
        problems.append(sig.certificate_error)
    if not certs:
        return SignatureCheck("RSA", sig.absolute_offset, _no_chain("no certificate"),
                              LeafKind.NONE, ("the signature lists no readable certificate",
                                              *problems))
    chain = build_chain(certs[0], certs[1:],
                        [c for c in _anchor_certs(anchors) if isinstance(c, Certificate)])
    checksum = archive.stored_checksum
    algorithms = {"sha1": hashes.SHA1(), "sha256": hashes.SHA256(), "sha512": hashes.SHA512()}
    algorithm = algorithms.get(archive.checksum_style or "")
    if sig.blob is None:
        problems.append("the signature bytes lie outside the file")
    elif checksum is None or algorithm is None:
        problems.append("there is no TOC checksum to verify the signature against")
    else:
        try:
            key = _load(certs[0]).public_key()
            if not isinstance(key, rsa.RSAPublicKey):
                problems.append(f"the signer's key is {type(key).__name__}, not RSA")
            else:
                key.verify(sig.blob, checksum, padding.PKCS1v15(), utils.Prehashed(algorithm))
        except InvalidSignature:
            problems.append("the RSA signature does not verify over the TOC checksum (the "
                            "package changed after signing, or the key is not the "
                            "certificate's)")
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            problems.append(f"the RSA signature cannot be checked: {exc}")
    return SignatureCheck("RSA", sig.absolute_offset, chain, leaf_kind(chain.certificates),
                          tuple(problems))


def _der_length(blob: bytes) -> int:
    """The length of the first BER element (the CMS is padded with zeros to its reserved
    size, and libxar's writers use indefinite lengths)."""
    from asn1crypto import parser

    header, contents, trailer = parser.parse(blob)[3:6]
    return len(header) + len(contents) + len(trailer)


def _check_cms(sig: XarSignature, archive: XarArchive,
               anchors: tuple[bytes, ...]) -> SignatureCheck:
    from bundlelint.analysis.cms import (
        _find_signer_cert,
        _verify_timestamp,
        verify_signer,
    )
    from bundlelint.parsers.cms import Certificate, parse_cms

    anchor_certs = [c for c in _anchor_certs(anchors) if isinstance(c, Certificate)]
    if sig.blob is None:
        return SignatureCheck("CMS", sig.absolute_offset, _no_chain("unreadable"),
                              LeafKind.NONE, ("the signature bytes lie outside the file",))
    try:
        length = _der_length(sig.blob)
        parsed = parse_cms(sig.blob[:length], path=archive.path, base=sig.absolute_offset)
    except ParseError as err:
        return SignatureCheck("CMS", sig.absolute_offset, _no_chain("unreadable"),
                              LeafKind.NONE, (f"the CMS signature cannot be read: {err.reason}",))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        return SignatureCheck("CMS", sig.absolute_offset, _no_chain("unreadable"),
                              LeafKind.NONE, (f"the CMS signature cannot be read: {exc}",))
    signer = parsed.signer
    if signer is None:
        return SignatureCheck("CMS", sig.absolute_offset, _no_chain("no signer"),
                              LeafKind.NONE, ("the CMS has no SignerInfo",))
    leaf = _find_signer_cert(signer, parsed.certificates)
    chain = build_chain(leaf, parsed.certificates, anchor_certs)
    problems: list[str] = []
    checksum = archive.stored_checksum
    if leaf is None:
        problems.append("the signer's certificate is not in the CMS")
    elif checksum is None:
        problems.append("there is no TOC checksum to verify the signature against")
    else:
        problem = verify_signer(signer, leaf, checksum)
        if problem:
            problems.append(f"the CMS signer's signature does not verify: {problem}")
        if signer.message_digest is not None:
            try:
                digest = hashlib.new(signer.digest_algorithm, checksum).digest()
            except ValueError:
                digest = b""
            if digest != signer.message_digest:
                problems.append("the CMS messageDigest is not the digest of the TOC checksum "
                                "(the package changed after signing)")
        elif signer.signed_attrs_der is not None:
            problems.append("the CMS has no messageDigest attribute")
    timestamp = _verify_timestamp(signer, anchor_certs) if signer.timestamp else None
    return SignatureCheck("CMS", sig.absolute_offset, chain, leaf_kind(chain.certificates),
                          tuple(problems), signer.signing_time, timestamp)


def open_report(fh: BinaryIO, name: str, anchors: tuple[bytes, ...] = ()) -> PackageReport:
    """Convenience for tests and ``inspect``: parse and check the package in ``fh``."""
    from bundlelint.parsers.package import open_package

    return package_report(open_package(fh, name), anchors)
