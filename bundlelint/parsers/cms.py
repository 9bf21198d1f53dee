"""The CMS signature of a code signature (slot 0x10000 BlobWrapper payload), decoded eagerly.

Why: whether code is Developer ID-signed, by which team, when, and with a secure timestamp is
all inside this DER blob (docs/formats.md 2.10-2.12). This module turns it into frozen models with
asn1crypto and nothing else: it verifies nothing (``bundlelint.analysis.cms`` does), but it
keeps every byte verification needs (certificate DER, the signed attributes re-encoded as the
SET that was signed, signature values, the TSTInfo bytes).

asn1crypto decodes lazily, so a malformed blob can fail on any attribute access. Everything is
read inside one guarded function and any failure becomes a ``ParseError`` at the blob's offset.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass

from asn1crypto import algos, cms, core, tsp, x509

from bundlelint.errors import ParseError
from bundlelint.parsers.plist import parse_plist

_FMT = "CMS signature"

OID_DATA = "1.2.840.113549.1.7.1"
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
OID_TIMESTAMP_TOKEN = "1.2.840.113549.1.9.16.2.14"
OID_HASH_AGILITY_V1 = "1.2.840.113635.100.9.1"
OID_HASH_AGILITY_V2 = "1.2.840.113635.100.9.2"
APPLE_OID_PREFIX = "1.2.840.113635."

#: At most this many certificates or signers are decoded (Apple writes 3 and 1).
MAX_CERTIFICATES = 32
MAX_SIGNERS = 8
MAX_CDHASHES = 16

#: Hash names as hashlib knows them, by digest OID or asn1crypto name.
DIGEST_NAMES = {
    "sha1": "sha1", "sha224": "sha224", "sha256": "sha256", "sha384": "sha384",
    "sha512": "sha512", "md5": "md5",
}


@dataclass(frozen=True)
class Certificate:
    """One X.509 certificate, with what code-signing checks and ``inspect`` need."""

    der: bytes
    subject: str
    issuer: str
    subject_cn: str | None
    subject_ou: str | None
    subject_o: str | None
    subject_uid: str | None
    issuer_cn: str | None
    serial: int
    not_before: _dt.datetime
    not_after: _dt.datetime
    extension_oids: tuple[str, ...]
    critical_extension_oids: tuple[str, ...]
    extended_key_usages: tuple[str, ...]
    is_ca: bool
    public_key_algorithm: str
    issuer_der: bytes  # the issuer Name, DER (chain building compares bytes)
    subject_der: bytes
    subject_key_identifier: bytes | None

    @property
    def apple_oids(self) -> tuple[str, ...]:
        """Apple's own extension OIDs (1.2.840.113635...): they say what kind of cert it is."""
        return tuple(o for o in self.extension_oids if o.startswith(APPLE_OID_PREFIX))

    @property
    def sha256(self) -> str:
        """SHA-256 fingerprint of the DER, upper-case hex (how docs/formats.md 2.12 pins roots)."""
        return hashlib.sha256(self.der).hexdigest().upper()

    @property
    def sha1(self) -> str:
        return hashlib.sha1(self.der).hexdigest().upper()

    @property
    def name(self) -> str:
        """The common name, or the whole subject if it has none (``codesign``'s Authority=)."""
        return self.subject_cn or self.subject

    @property
    def is_self_issued(self) -> bool:
        return self.subject_der == self.issuer_der


@dataclass(frozen=True)
class SignerInfo:
    """One SignerInfo. ``signed_attrs_der`` is the SET OF attributes exactly as signed."""

    sid_issuer_der: bytes | None
    sid_serial: int | None
    sid_key_identifier: bytes | None
    digest_algorithm: str  # hashlib name or the dotted OID if unknown
    signature_algorithm: str  # asn1crypto name, e.g. rsassa_pkcs1v15, sha256_ecdsa
    signature: bytes
    signed_attrs_der: bytes | None
    signed_attr_oids: tuple[str, ...]
    content_type: str | None
    message_digest: bytes | None
    signing_time: _dt.datetime | None
    cdhashes_v1: tuple[bytes, ...] | None  # None: attribute absent
    cdhashes_v1_error: str | None
    cdhashes_v2: tuple[tuple[str, bytes], ...] | None  # (digest algorithm, full hash)
    timestamp: TimestampToken | None
    timestamp_error: str | None
    unsigned_attr_oids: tuple[str, ...]


@dataclass(frozen=True)
class TimestampToken:
    """An RFC 3161 TimeStampToken (the unsigned ``id-aa-timeStampToken`` attribute)."""

    gen_time: _dt.datetime
    tsa_name: str | None
    policy: str
    serial: int
    imprint_algorithm: str
    imprint: bytes
    tst_info_der: bytes  # the eContent that the TSA's messageDigest covers
    certificates: tuple[Certificate, ...]
    signer: SignerInfo


@dataclass(frozen=True)
class CmsSignature:
    """A decoded SignedData. Apple's is detached (``econtent`` None) over the primary CD."""

    offset: int
    content_type: str
    version: str
    econtent_type: str
    econtent: bytes | None
    digest_algorithms: tuple[str, ...]
    certificates: tuple[Certificate, ...]
    signers: tuple[SignerInfo, ...]

    @property
    def signer(self) -> SignerInfo | None:
        return self.signers[0] if self.signers else None

    @property
    def is_detached(self) -> bool:
        return self.econtent is None


def parse_cms(data: bytes, *, path: str = "", base: int = 0) -> CmsSignature:
    """Decode the BlobWrapper payload of slot 0x10000; ``base`` is its absolute offset."""
    if not data:
        raise ParseError(_FMT, path, base, "the CMS blob is empty (an ad-hoc signature)")
    try:
        return _parse(data, base)
    except ParseError as err:
        raise err.with_path(path) from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
            UnicodeError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ParseError(_FMT, path, base, f"malformed CMS: {reason[:200]}") from None


def _parse(data: bytes, base: int) -> CmsSignature:
    info = cms.ContentInfo.load(data, strict=True)
    content_type = info["content_type"].dotted
    if content_type != OID_SIGNED_DATA:
        raise ParseError(_FMT, "", base, f"ContentInfo type is {content_type}, not signedData")
    sd = info["content"]
    return _signed_data(sd, base, content_type)


def _signed_data(sd: cms.SignedData, base: int, content_type: str) -> CmsSignature:
    eci = sd["encap_content_info"]
    econtent = eci["content"]
    econtent_bytes = None if isinstance(econtent, core.Void) else bytes(econtent.contents)
    certs: list[Certificate] = []
    cert_set = sd["certificates"]
    if not isinstance(cert_set, core.Void):
        if len(cert_set) > MAX_CERTIFICATES:
            raise ParseError(_FMT, "", base, f"{len(cert_set)} certificates; at most "
                             f"{MAX_CERTIFICATES} are accepted")
        for choice in cert_set:
            if choice.name == "certificate":
                certs.append(_certificate_cached(choice.chosen))
    signer_infos = sd["signer_infos"]
    if len(signer_infos) > MAX_SIGNERS:
        raise ParseError(_FMT, "", base, f"{len(signer_infos)} signers; at most {MAX_SIGNERS}")
    signers = tuple(_signer(si, base) for si in signer_infos)
    return CmsSignature(
        offset=base,
        content_type=content_type,
        version=str(sd["version"].native),
        econtent_type=eci["content_type"].dotted,
        econtent=econtent_bytes,
        digest_algorithms=tuple(_digest_name(a) for a in sd["digest_algorithms"]),
        certificates=tuple(certs),
        signers=signers,
    )


def parse_certificate(der: bytes) -> Certificate:
    """A ``Certificate`` from DER (e.g. a trust anchor); raises ``ValueError`` if malformed."""
    return certificate_from_asn1(x509.Certificate.load(der, strict=True))


#: Certificates already described, by DER: every signature of one vendor carries the same
#: chain, and describing a certificate (names, extensions) costs ~1 ms. Bounded: cleared when
#: full, so hostile input cannot grow it.
_described: dict[bytes, Certificate] = {}
_DESCRIBED_MAX = 256


def _certificate_cached(cert: x509.Certificate) -> Certificate:
    der = cert.dump()
    found = _described.get(der)
    if found is None:
        found = certificate_from_asn1(cert)
        if len(_described) >= _DESCRIBED_MAX:
            _described.clear()
        _described[der] = found
    return found


def certificate_from_asn1(cert: x509.Certificate) -> Certificate:
    tbs = cert["tbs_certificate"]
    subject = cert.subject
    issuer = cert.issuer
    exts = tbs["extensions"]
    oids: list[str] = []
    critical: list[str] = []
    ekus: tuple[str, ...] = ()
    is_ca = False
    for ext in [] if isinstance(exts, core.Void) else exts:
        oid = ext["extn_id"].dotted
        oids.append(oid)
        if ext["critical"].native:
            critical.append(oid)
    if cert.extended_key_usage_value is not None:
        ekus = tuple(u.dotted for u in cert.extended_key_usage_value)
    bc = cert.basic_constraints_value
    if bc is not None:
        is_ca = bool(bc["ca"].native)
    validity = tbs["validity"]
    return Certificate(
        der=cert.dump(),
        subject=_name_text(subject),
        issuer=_name_text(issuer),
        subject_cn=_attr(subject, "common_name"),
        subject_ou=_attr(subject, "organizational_unit_name"),
        subject_o=_attr(subject, "organization_name"),
        subject_uid=_attr(subject, "user_id"),
        issuer_cn=_attr(issuer, "common_name"),
        serial=int(tbs["serial_number"].native),
        not_before=validity["not_before"].native,
        not_after=validity["not_after"].native,
        extension_oids=tuple(oids),
        critical_extension_oids=tuple(critical),
        extended_key_usages=ekus,
        is_ca=is_ca,
        public_key_algorithm=str(cert.public_key.algorithm),
        issuer_der=issuer.dump(),
        subject_der=subject.dump(),
        subject_key_identifier=cert.key_identifier,
    )


def _attr(name: x509.Name, key: str) -> str | None:
    value = name.native.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else str(value)


def _name_text(name: x509.Name) -> str:
    try:
        return str(name.human_friendly)
    except (ValueError, TypeError, KeyError):
        return str(name.dump().hex())


def _digest_name(algo: cms.DigestAlgorithm) -> str:
    try:
        name = algo["algorithm"].native
    except ValueError:
        return str(algo["algorithm"].dotted)
    return DIGEST_NAMES.get(str(name), str(algo["algorithm"].dotted))


def _signer(si: cms.SignerInfo, base: int) -> SignerInfo:
    sid = si["sid"]
    issuer_der = serial = key_id = None
    if sid.name == "issuer_and_serial_number":
        issuer_der = sid.chosen["issuer"].dump()
        serial = int(sid.chosen["serial_number"].native)
    else:
        key_id = bytes(sid.chosen.native)
    attrs = si["signed_attrs"]
    signed_der: bytes | None = None
    oids: list[str] = []
    content_type = message_digest = signing_time = None
    v1: tuple[bytes, ...] | None = None
    v1_error: str | None = None
    v2: list[tuple[str, bytes]] | None = None
    if not isinstance(attrs, core.Void):
        dump = attrs.dump()
        # The signature covers the attributes as a SET (tag 0x31), not as stored ([0] = 0xA0).
        signed_der = b"\x31" + dump[1:]
        for attr in attrs:
            oid = attr["type"].dotted
            oids.append(oid)
            values = attr["values"]
            if oid == OID_CONTENT_TYPE:
                content_type = values[0].dotted
            elif oid == OID_MESSAGE_DIGEST:
                message_digest = bytes(values[0].native)
            elif oid == OID_SIGNING_TIME:
                signing_time = values[0].native
            elif oid == OID_HASH_AGILITY_V1:
                v1, v1_error = _agility_v1(values[0])
            elif oid == OID_HASH_AGILITY_V2:
                v2 = [_agility_v2(v) for v in values][:MAX_CDHASHES]
    timestamp: TimestampToken | None = None
    timestamp_error: str | None = None
    unsigned_oids: list[str] = []
    unsigned = si["unsigned_attrs"]
    if not isinstance(unsigned, core.Void):
        for attr in unsigned:
            oid = attr["type"].dotted
            unsigned_oids.append(oid)
            if oid == OID_TIMESTAMP_TOKEN and timestamp is None:
                try:
                    timestamp = _timestamp(attr["values"][0], base)
                except (ValueError, TypeError, KeyError, IndexError, AttributeError,
                        OverflowError, ParseError) as exc:
                    timestamp_error = str(exc).splitlines()[0][:200] if str(exc) else "malformed"
    return SignerInfo(
        sid_issuer_der=issuer_der,
        sid_serial=serial,
        sid_key_identifier=key_id,
        digest_algorithm=_digest_name(si["digest_algorithm"]),
        signature_algorithm=str(si["signature_algorithm"].signature_algo
                                if _has_signature_algo(si) else
                                si["signature_algorithm"]["algorithm"].dotted),
        signature=bytes(si["signature"].native),
        signed_attrs_der=signed_der,
        signed_attr_oids=tuple(oids),
        content_type=content_type,
        message_digest=message_digest,
        signing_time=signing_time,
        cdhashes_v1=v1,
        cdhashes_v1_error=v1_error,
        cdhashes_v2=None if v2 is None else tuple(v2),
        timestamp=timestamp,
        timestamp_error=timestamp_error,
        unsigned_attr_oids=tuple(unsigned_oids),
    )


def _has_signature_algo(si: cms.SignerInfo) -> bool:
    try:
        si["signature_algorithm"].signature_algo  # noqa: B018 - raises if unknown
    except ValueError:
        return False
    return True


def _agility_v1(value: core.Asn1Value) -> tuple[tuple[bytes, ...] | None, str | None]:
    """The V1 attribute: an OCTET STRING holding an XML plist ``{cdhashes: [<data>...]}``."""
    octets = core.OctetString.load(value.dump(), strict=True).native
    try:
        doc = parse_plist(octets, "").value
    except ParseError as err:
        return None, f"hash agility plist does not parse: {err.reason}"
    hashes = doc.get("cdhashes") if isinstance(doc, dict) else None
    if not isinstance(hashes, list) or not all(isinstance(h, bytes) for h in hashes):
        return None, "hash agility plist has no cdhashes list of data"
    return tuple(hashes[:MAX_CDHASHES]), None


class _AgileHash(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [  # noqa: RUF012 - asn1crypto's schema declaration
        ("algorithm", core.ObjectIdentifier),
        ("digest", core.OctetString),
    ]


def _agility_v2(value: core.Asn1Value) -> tuple[str, bytes]:
    """A V2 value: SEQUENCE { digest algorithm OID, OCTET STRING full CD hash }."""
    parsed = _AgileHash.load(value.dump(), strict=True)
    oid = parsed["algorithm"].dotted
    name = algos.DigestAlgorithmId._map.get(oid, oid)
    return DIGEST_NAMES.get(str(name), oid), bytes(parsed["digest"].native)


def _timestamp(token: cms.ContentInfo, base: int) -> TimestampToken:
    if token["content_type"].dotted != OID_SIGNED_DATA:
        raise ValueError("timestamp token is not signedData")
    sd = _signed_data(token["content"], base, OID_SIGNED_DATA)
    if sd.econtent_type != OID_TST_INFO or sd.econtent is None:
        raise ValueError("timestamp token does not hold a TSTInfo")
    if not sd.signers:
        raise ValueError("timestamp token has no signer")
    tst = tsp.TSTInfo.load(sd.econtent, strict=True)
    tsa = tst["tsa"]
    tsa_name = None
    if not isinstance(tsa, core.Void):
        chosen = tsa.chosen
        tsa_name = _name_text(chosen) if isinstance(chosen, x509.Name) else str(chosen.native)
    imprint = tst["message_imprint"]
    return TimestampToken(
        gen_time=tst["gen_time"].native,
        tsa_name=tsa_name,
        policy=tst["policy"].dotted,
        serial=int(tst["serial_number"].native),
        imprint_algorithm=_digest_name(imprint["hash_algorithm"]),
        imprint=bytes(imprint["hashed_message"].native),
        tst_info_der=sd.econtent,
        certificates=sd.certificates,
        signer=sd.signers[0],
    )
