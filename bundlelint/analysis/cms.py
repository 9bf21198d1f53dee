"""CMS signature verification: signer signature, digests, cdhash attributes, chains, timestamp.

Why: the notary (and Gatekeeper) accept code only if its CMS signature is Apple's kind of
signature over *these* CodeDirectories, by a Developer ID Application certificate chaining to
Apple Root CA, with a secure timestamp from Apple's TSA. This module checks each of those facts
without Apple tools, from the bytes alone (docs/formats.md 2.9-2.12), and returns one frozen
``CmsVerification`` per slice that rules and ``inspect`` read.

Trust: a chain is trusted only when it ends in a certificate whose SHA-256 is one of the pinned
Apple roots (``APPLE_ROOTS``), or one of ``Options.extra_trust_anchors``. Extra anchors exist so
that test fixtures signed by a throwaway CA can be verified end to end; they are reported as
``ChainStatus.EXTRA_ANCHOR`` (never as Apple), they do not change what counts as a Developer ID
certificate (that is decided by Apple's extension OIDs), and they add no trust to chains that do
not end in them. Validity periods are reported, not enforced (Apple judges them at the
timestamp's time, and expired Developer ID certificates keep timestamped code valid).

Attached content (a provisioning profile: Apple's signature over the plist it carries) is
verified by ``verify_signed_content`` with the same signer, digest and chain checks.

Not here: code-page hashes, CodeResources (other analyses).
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bundlelint.bundle import Bundle, Entry
from bundlelint.errors import ParseError
from bundlelint.options import Options
from bundlelint.parsers.codesign import CSSLOT_SIGNATURESLOT, EmbeddedSignature
from bundlelint.parsers.macho import Slice
from bundlelint.parsers.requirements import RequirementSet, parse_requirements

if TYPE_CHECKING:
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes

    from bundlelint.parsers.cms import Certificate, CmsSignature, SignerInfo

# asn1crypto and cryptography are imported where a CMS is actually verified: most inputs being
# linted on the way to their first Developer ID signature have none, and the imports cost more
# than parsing a Mach-O.

#: SHA-256 of the DER of Apple's root certificates (docs/formats.md 2.12) -> name.
APPLE_ROOTS = {
    "B0B1730ECBC7FF4505142C49F1295E6EDA6BCAED7E2C68C5BE91B5A11001F024": "Apple Root CA",
    "C2B9B042DD57830E7D117DAC55AC8AE19407D38E41D88F3215BC3A890444A050": "Apple Root CA - G2",
    "63343ABFB89A6A03EBB57E9B3F5FA7BE7C4F5C756F3017B3A8C488C3653E9179": "Apple Root CA - G3",
}

OID_DEVELOPER_ID_APPLICATION = "1.2.840.113635.100.6.1.13"
OID_DEVELOPER_ID_INSTALLER = "1.2.840.113635.100.6.1.14"
OID_DEVELOPER_ID_KERNEL = "1.2.840.113635.100.6.1.18"
OID_DEVELOPER_ID_CA = "1.2.840.113635.100.6.2.6"
OID_IPHONE_DEVELOPER = "1.2.840.113635.100.6.1.2"
OID_IPHONE_DISTRIBUTION = "1.2.840.113635.100.6.1.4"
OID_MAC_APP_SUBMISSION = "1.2.840.113635.100.6.1.7"
OID_MAC_APP_STORE = "1.2.840.113635.100.6.1.9"
OID_MAC_DEVELOPER = "1.2.840.113635.100.6.1.12"

#: Longest chain we build; Apple's are 3 certificates.
MAX_CHAIN = 10

def _hash_algorithm(name: str) -> hashes.HashAlgorithm | None:
    from cryptography.hazmat.primitives import hashes

    table: dict[str, type[hashes.HashAlgorithm]] = {
        "sha1": hashes.SHA1,
        "sha224": hashes.SHA224,
        "sha256": hashes.SHA256,
        "sha384": hashes.SHA384,
        "sha512": hashes.SHA512,
    }
    found = table.get(name)
    return found() if found is not None else None
_CD_HASH_NAMES = {1: "sha1", 2: "sha256", 3: "sha256", 4: "sha384", 5: "sha512"}


class LeafKind(enum.Enum):
    """What the signing certificate is, from Apple's extension OIDs (docs/formats.md 2.11)."""

    DEVELOPER_ID_APPLICATION = "Developer ID Application"
    DEVELOPER_ID_INSTALLER = "Developer ID Installer"
    DEVELOPER_ID_KERNEL = "Developer ID Kernel"
    APPLE_DEVELOPMENT = "Apple Development"
    APPLE_DISTRIBUTION = "Apple Distribution"
    MAC_DEVELOPER = "Mac Developer"
    MAC_APP_SUBMISSION = "Mac App Store submission (3rd Party Mac Developer Application)"
    MAC_APP_STORE = "Mac App Store (Apple re-signed)"
    IPHONE = "iPhone Developer or Distribution"
    NOT_APPLE = "not an Apple code-signing certificate"
    NONE = "no signing certificate"


class ChainStatus(enum.Enum):
    """How far the certificate chain goes and what it ends in."""

    APPLE_ROOT = "rooted at a pinned Apple root"
    EXTRA_ANCHOR = "rooted at an extra trust anchor"
    UNTRUSTED_ROOT = "rooted at a certificate that is not an Apple root"
    INCOMPLETE = "incomplete"
    BROKEN = "a certificate's signature does not verify"
    NO_LEAF = "no signer certificate"

    @property
    def trusted(self) -> bool:
        return self in (ChainStatus.APPLE_ROOT, ChainStatus.EXTRA_ANCHOR)


@dataclass(frozen=True)
class ChainResult:
    """The path built from the signer certificate (first) towards a root (last)."""

    certificates: tuple[Certificate, ...]
    status: ChainStatus
    problems: tuple[str, ...]
    anchor_name: str | None

    @property
    def names(self) -> tuple[str, ...]:
        """Leaf first, as ``codesign -dvv`` prints ``Authority=`` lines."""
        return tuple(c.name for c in self.certificates)

    @property
    def trusted(self) -> bool:
        return self.status.trusted


@dataclass(frozen=True)
class TimestampVerification:
    """The RFC 3161 token: when, by whom, and whether it is a valid timestamp of *this* CMS."""

    gen_time: datetime.datetime
    tsa_name: str | None
    imprint_matches: bool
    signature_problem: str | None
    chain: ChainResult

    @property
    def problems(self) -> tuple[str, ...]:
        out: list[str] = []
        if not self.imprint_matches:
            out.append("its messageImprint is not the hash of this signature's value")
        if self.signature_problem:
            out.append(f"the TSA signature is invalid: {self.signature_problem}")
        if not self.chain.trusted:
            out.append(f"the TSA chain is {self.chain.status.value}"
                       + (f" ({'; '.join(self.chain.problems)})" if self.chain.problems else ""))
        return tuple(out)

    @property
    def valid(self) -> bool:
        return not self.problems


class SignatureState(enum.Enum):
    UNSIGNED = "unsigned"
    ADHOC = "adhoc"  # ad-hoc or linker-signed: no CMS to verify (BL202's business)
    UNPARSEABLE = "unparseable"
    CERTIFICATE = "certificate"


@dataclass(frozen=True)
class CmsVerification:
    """Everything checked about one slice's CMS signature."""

    path: str
    arch: str
    offset: int | None  # absolute offset of the CMS payload in the file
    state: SignatureState
    parse_error: ParseError | None = None
    cms: CmsSignature | None = None
    chain: ChainResult | None = None
    leaf_kind: LeafKind = LeafKind.NONE
    signature_problem: str | None = None
    message_digest_matches: bool | None = None
    cdhashes_v1_match: bool | None = None  # None: attribute absent
    cdhashes_v2_match: bool | None = None
    problems: tuple[str, ...] = ()
    cd_team_id: str | None = None
    timestamp: TimestampVerification | None = None
    timestamp_problem: str | None = None  # token present but unreadable
    requirements: RequirementSet | None = None
    requirements_error: ParseError | None = None

    @property
    def leaf(self) -> Certificate | None:
        return self.chain.certificates[0] if self.chain and self.chain.certificates else None

    @property
    def authority(self) -> tuple[str, ...]:
        return self.chain.names if self.chain else ()

    @property
    def team_id(self) -> str | None:
        """The leaf certificate's subject OU (Apple's Team ID)."""
        return self.leaf.subject_ou if self.leaf else None

    @property
    def team_id_matches(self) -> bool | None:
        if self.leaf is None:
            return None
        return self.team_id == self.cd_team_id

    @property
    def signing_time(self) -> datetime.datetime | None:
        signer = self.cms.signer if self.cms else None
        return signer.signing_time if signer else None

    @property
    def signature_valid(self) -> bool:
        return self.state is SignatureState.CERTIFICATE and not self.problems

    @property
    def designated_requirement(self) -> str | None:
        req = self.requirements.designated if self.requirements else None
        return req.text if req else None


def verify_signature(bundle: Bundle, entry: Entry, slice_: Slice,
                     options: Options | None = None) -> CmsVerification:
    """Verify ``slice_``'s CMS signature (cached per input, slice and trust anchors)."""
    opts = options or Options()
    anchors_key = hashlib.sha256(b"".join(opts.extra_trust_anchors)).hexdigest()[:16]
    key = f"{entry.relpath}@{slice_.offset}:{anchors_key}"
    return bundle.memo("cms", key, lambda: _verify(entry, slice_, opts))


def _verify(entry: Entry, sl: Slice, options: Options) -> CmsVerification:
    return verify_embedded_signature(sl.signature, entry.display, sl.arch, options)


def verify_embedded_signature(sig: EmbeddedSignature | None, display: str, arch: str,
                              options: Options) -> CmsVerification:
    """Verify the CMS of a SuperBlob wherever it comes from: a Mach-O slice, or a disk
    image's own signature (``arch`` empty)."""
    base = CmsVerification(path=display, arch=arch, offset=None,
                           state=SignatureState.UNSIGNED)
    if sig is None or sig.primary is None:
        return base
    reqs, reqs_error = _requirements(sig, display)
    cd = sig.primary
    cms_offset = _cms_offset(sig)
    common = CmsVerification(path=display, arch=arch, offset=cms_offset,
                             state=SignatureState.ADHOC, cd_team_id=cd.team_id,
                             requirements=reqs, requirements_error=reqs_error)
    if sig.kind != "certificate" or sig.cms is None:
        return common
    try:
        from bundlelint.parsers.cms import parse_cms

        parsed = parse_cms(sig.cms, path=display, base=cms_offset or 0)
    except ParseError as err:
        return replace(common, state=SignatureState.UNPARSEABLE, parse_error=err,
                       problems=(err.reason,))
    anchors = _anchors(options)
    signer = parsed.signer
    if signer is None:
        return replace(common, state=SignatureState.CERTIFICATE, cms=parsed,
                       problems=("the SignedData has no SignerInfo",),
                       chain=ChainResult((), ChainStatus.NO_LEAF, (), None))
    leaf = _find_signer_cert(signer, parsed.certificates)
    chain = build_chain(leaf, parsed.certificates, anchors)
    problems: list[str] = []
    sig_problem = (verify_signer(signer, leaf, None) if leaf is not None
                   else "the signer's certificate is not in the signature")
    if sig_problem:
        problems.append(f"the signer's signature does not verify: {sig_problem}")
    md_ok = _message_digest_ok(signer, cd.raw)
    if md_ok is False:
        problems.append("messageDigest is not the hash of the primary CodeDirectory "
                        "(the CodeDirectory changed after signing)")
    elif md_ok is None:
        problems.append("the signature has no messageDigest attribute")
    v1_ok, v2_ok = _cdhash_checks(signer, sig)
    if signer.cdhashes_v1_error:
        problems.append(signer.cdhashes_v1_error)
    if v1_ok is False:
        problems.append("the signed cdhashes (hash agility V1) differ from the CodeDirectories")
    if v2_ok is False:
        problems.append("the signed CodeDirectory hashes (hash agility V2) differ from the "
                        "CodeDirectories")
    timestamp = None
    if signer.timestamp is not None:
        timestamp = _verify_timestamp(signer, anchors)
    return replace(
        common,
        state=SignatureState.CERTIFICATE,
        cms=parsed,
        chain=chain,
        leaf_kind=leaf_kind(chain.certificates),
        signature_problem=sig_problem,
        message_digest_matches=md_ok,
        cdhashes_v1_match=v1_ok,
        cdhashes_v2_match=v2_ok,
        problems=tuple(problems),
        timestamp=timestamp,
        timestamp_problem=signer.timestamp_error,
    )


@dataclass(frozen=True)
class SignedContentVerification:
    """A SignedData that carries its content (a provisioning profile): whether the signer's
    signature covers *this* content and whether the signer chains to a trusted root."""

    chain: ChainResult
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems


def verify_signed_content(parsed: CmsSignature,
                          options: Options | None = None) -> SignedContentVerification:
    """Verify an attached-content SignedData: the signer's signature (over its signed
    attributes, or over the content without them), ``messageDigest`` over the encapsulated
    content, and the chain to a pinned Apple root or an extra trust anchor."""
    anchors = _anchors(options or Options())
    signer = parsed.signer
    if signer is None:
        return SignedContentVerification(ChainResult((), ChainStatus.NO_LEAF, (), None),
                                         ("the SignedData has no SignerInfo",))
    leaf = _find_signer_cert(signer, parsed.certificates)
    chain = build_chain(leaf, parsed.certificates, anchors)
    content = parsed.econtent
    problems: list[str] = []
    sig_problem = (verify_signer(signer, leaf, content) if leaf is not None
                   else "the signer's certificate is not in the signature")
    if sig_problem:
        problems.append(f"the signer's signature does not verify: {sig_problem}")
    if content is None:
        problems.append("the SignedData carries no content")
    elif signer.signed_attrs_der is not None:
        md_ok = _message_digest_ok(signer, content)
        if md_ok is False:
            problems.append("messageDigest is not the hash of the content "
                            "(the content changed after signing)")
        elif md_ok is None:
            problems.append("the signature has no messageDigest attribute")
    if not chain.trusted:
        problems.append(f"the certificate chain is {chain.status.value}"
                        + (f" ({'; '.join(chain.problems)})" if chain.problems else ""))
    return SignedContentVerification(chain, tuple(problems))


def _requirements(sig: EmbeddedSignature,
                  display: str) -> tuple[RequirementSet | None, ParseError | None]:
    if sig.requirements is None:
        return None, None
    offset = next((b.offset for b in sig.blobs if b.slot == 2), 0)
    try:
        return parse_requirements(sig.requirements, path=display, base=offset), None
    except ParseError as err:
        return None, err


def _cms_offset(sig: EmbeddedSignature) -> int | None:
    for blob in sig.blobs:
        if blob.slot == CSSLOT_SIGNATURESLOT:
            return blob.offset + 8
    return None


def _anchors(options: Options) -> tuple[Certificate, ...]:
    from bundlelint.parsers.cms import parse_certificate

    out: list[Certificate] = []
    for der in options.extra_trust_anchors:
        try:
            out.append(parse_certificate(der))
        except (ValueError, TypeError):
            continue  # the CLI validates anchors; a bad one simply trusts nothing
    return tuple(out)


def _find_signer_cert(signer: SignerInfo, certs: Sequence[Certificate]) -> Certificate | None:
    for cert in certs:
        if signer.sid_serial is not None:
            if cert.serial == signer.sid_serial and cert.issuer_der == signer.sid_issuer_der:
                return cert
        elif signer.sid_key_identifier is not None and \
                cert.subject_key_identifier == signer.sid_key_identifier:
            return cert
    return None


def leaf_kind(chain: Sequence[Certificate]) -> LeafKind:
    """Classify the leaf (``chain[0]``) by Apple's OIDs; Developer ID Application also needs
    the Developer ID CA OID on its issuer (``chain[1]``)."""
    if not chain:
        return LeafKind.NONE
    oids = set(chain[0].apple_oids)
    issuer_oids = set(chain[1].apple_oids) if len(chain) > 1 else set()
    if OID_DEVELOPER_ID_APPLICATION in oids and OID_DEVELOPER_ID_CA in issuer_oids:
        return LeafKind.DEVELOPER_ID_APPLICATION
    if OID_DEVELOPER_ID_INSTALLER in oids:
        return LeafKind.DEVELOPER_ID_INSTALLER
    if OID_DEVELOPER_ID_KERNEL in oids:
        return LeafKind.DEVELOPER_ID_KERNEL
    if OID_MAC_DEVELOPER in oids and OID_IPHONE_DEVELOPER in oids:
        return LeafKind.APPLE_DEVELOPMENT
    if OID_MAC_APP_SUBMISSION in oids and OID_IPHONE_DISTRIBUTION in oids:
        return LeafKind.APPLE_DISTRIBUTION
    if OID_MAC_DEVELOPER in oids:
        return LeafKind.MAC_DEVELOPER
    if OID_MAC_APP_SUBMISSION in oids:
        return LeafKind.MAC_APP_SUBMISSION
    if OID_MAC_APP_STORE in oids:
        return LeafKind.MAC_APP_STORE
    if OID_IPHONE_DEVELOPER in oids or OID_IPHONE_DISTRIBUTION in oids:
        return LeafKind.IPHONE
    return LeafKind.NOT_APPLE


def build_chain(leaf: Certificate | None, certs: Sequence[Certificate],
                anchors: Sequence[Certificate] = ()) -> ChainResult:
    """Walk from ``leaf`` to a self-signed root through ``certs`` (then ``anchors``), verifying
    each link's signature with the issuer's key; then decide whether the end is trusted."""
    if leaf is None:
        return ChainResult((), ChainStatus.NO_LEAF, ("no certificate matches the signer",), None)
    anchor_prints = {a.sha256 for a in anchors}
    chain = [leaf]
    problems: list[str] = []
    status: ChainStatus | None = None
    pool = [*certs, *anchors]
    while True:
        current = chain[-1]
        if current.sha256 in APPLE_ROOTS or current.sha256 in anchor_prints:
            if current.is_self_issued:
                problem = verify_certificate_signature(current, current)
                if problem:
                    problems.append(f"{current.name}: self-signature does not verify: {problem}")
                    status = ChainStatus.BROKEN
            break
        if current.is_self_issued:
            problem = verify_certificate_signature(current, current)
            if problem:
                problems.append(f"{current.name}: self-signature does not verify: {problem}")
                status = ChainStatus.BROKEN
            else:
                status = ChainStatus.UNTRUSTED_ROOT
                problems.append(f"{current.name} (SHA-256 {current.sha256}) is not a pinned "
                                "Apple root")
            break
        if len(chain) >= MAX_CHAIN:
            status = ChainStatus.INCOMPLETE
            problems.append(f"chain is longer than {MAX_CHAIN} certificates")
            break
        seen = {c.der for c in chain}
        candidates = [c for c in pool if c.subject_der == current.issuer_der and c.der not in seen]
        issuer = None
        failure = None
        for candidate in candidates:
            failure = verify_certificate_signature(current, candidate)
            if failure is None:
                issuer = candidate
                break
        if issuer is None:
            if candidates:
                status = ChainStatus.BROKEN
                problems.append(f"{current.name}: signature does not verify with the key of "
                                f"{candidates[0].name}: {failure}")
            else:
                status = ChainStatus.INCOMPLETE
                problems.append(f"the issuer of {current.name} ({current.issuer}) is not in "
                                "the signature")
            break
        chain.append(issuer)
    last = chain[-1]
    anchor_name = None
    if status is None:
        if last.sha256 in APPLE_ROOTS:
            status, anchor_name = ChainStatus.APPLE_ROOT, APPLE_ROOTS[last.sha256]
        else:
            status, anchor_name = ChainStatus.EXTRA_ANCHOR, last.name
    return ChainResult(tuple(chain), status, tuple(problems), anchor_name)


def _load(cert: Certificate) -> cx509.Certificate:
    from cryptography import x509 as cx509

    """The certificate through ``cryptography``; every way it can refuse one (InvalidVersion is
    not a ValueError: a fuzzer found that) becomes ``ValueError``, and its deprecation warnings
    about malformed-but-tolerated fields (negative serials) stay out of the user's terminal."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cx509.load_der_x509_certificate(cert.der)
    except cx509.InvalidVersion as exc:
        raise ValueError(f"invalid X.509 version: {exc}") from None


#: Results of :func:`verify_certificate_signature` by (child DER, issuer DER): the chains of
#: one vendor's signatures are the same certificates. Bounded like the parser's cache.
_verified_links: dict[tuple[bytes, bytes], str | None] = {}
_VERIFIED_LINKS_MAX = 256


def verify_certificate_signature(child: Certificate, issuer: Certificate) -> str | None:
    """None if ``issuer``'s key verifies ``child``'s signature, else why not (cached)."""
    key = (child.der, issuer.der)
    if key in _verified_links:
        return _verified_links[key]
    result = _verify_link(child, issuer)
    if len(_verified_links) >= _VERIFIED_LINKS_MAX:
        _verified_links.clear()
    _verified_links[key] = result
    return result


def _verify_link(child: Certificate, issuer: Certificate) -> str | None:
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        c = _load(child)
        key = _load(issuer).public_key()
        algo = c.signature_hash_algorithm
        if algo is None:
            return "unsupported signature algorithm"
        return _verify_raw(key, c.signature, c.tbs_certificate_bytes, algo,
                           pss=c.signature_algorithm_oid.dotted_string == "1.2.840.113549.1.1.10")
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return str(exc) or type(exc).__name__


def _verify_raw(key: object, signature: bytes, data: bytes, algo: hashes.HashAlgorithm,
                *, pss: bool = False) -> str | None:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    try:
        if isinstance(key, rsa.RSAPublicKey):
            pad: padding.AsymmetricPadding = (
                padding.PSS(mgf=padding.MGF1(algo), salt_length=padding.PSS.AUTO)
                if pss else padding.PKCS1v15())
            key.verify(signature, data, pad, algo)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(algo))
        else:
            return f"unsupported key type {type(key).__name__}"
    except InvalidSignature:
        return "bad signature"
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return str(exc) or type(exc).__name__
    return None


def verify_signer(signer: SignerInfo, cert: Certificate, content: bytes | None) -> str | None:
    """None if ``signer``'s signature over its signed attributes (or, without them, over
    ``content``) verifies with ``cert``'s key, else why not."""
    from cryptography.exceptions import UnsupportedAlgorithm

    algo = _hash_algorithm(signer.digest_algorithm)
    if algo is None:
        return f"unsupported digest algorithm {signer.digest_algorithm}"
    data = signer.signed_attrs_der if signer.signed_attrs_der is not None else content
    if data is None:
        return "there are no signed attributes and no content to verify"
    try:
        key = _load(cert).public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return f"cannot read the signer's public key: {exc}"
    pss = "pss" in signer.signature_algorithm
    return _verify_raw(key, signer.signature, data, algo, pss=pss)


def _digest(name: str, data: bytes) -> bytes | None:
    try:
        return hashlib.new(name, data).digest()
    except ValueError:
        return None


def _message_digest_ok(signer: SignerInfo, content: bytes) -> bool | None:
    if signer.message_digest is None:
        return None
    return _digest(signer.digest_algorithm, content) == signer.message_digest


def _cdhash_checks(signer: SignerInfo, sig: EmbeddedSignature) -> tuple[bool | None, bool | None]:
    cds = sig.code_directories  # primary first, then alternates in slot order
    v1 = None if signer.cdhashes_v1 is None else \
        tuple(signer.cdhashes_v1) == tuple(cd.cdhash for cd in cds)
    v2 = None
    if signer.cdhashes_v2 is not None:
        expected = sorted((_CD_HASH_NAMES.get(cd.hash_type, "?"),
                           _digest(_CD_HASH_NAMES.get(cd.hash_type, "sha256"), cd.raw) or b"")
                          for cd in cds)
        v2 = sorted(signer.cdhashes_v2) == expected
    return v1, v2


def _verify_timestamp(signer: SignerInfo, anchors: Sequence[Certificate]) -> TimestampVerification:
    token = signer.timestamp
    assert token is not None
    imprint = _digest(token.imprint_algorithm, signer.signature)
    tsa_signer = token.signer
    tsa_cert = _find_signer_cert(tsa_signer, token.certificates)
    chain = build_chain(tsa_cert, token.certificates, anchors)
    if tsa_cert is None:
        problem: str | None = "the TSA's certificate is not in the token"
    else:
        problem = verify_signer(tsa_signer, tsa_cert, token.tst_info_der)
        if problem is None and tsa_signer.signed_attrs_der is not None and \
                _message_digest_ok(tsa_signer, token.tst_info_der) is not True:
            problem = "its messageDigest is not the hash of the TSTInfo"
    return TimestampVerification(
        gen_time=token.gen_time,
        tsa_name=token.tsa_name,
        imprint_matches=imprint is not None and imprint == token.imprint,
        signature_problem=problem,
        chain=chain,
    )
