"""Stapled notarization tickets verified offline: the ticket's ECDSA signature, its chain to
Apple Root CA - G3, and which of the artifact's hashes it lists (docs/formats.md 14).

What is verified: the signature by the ticket's own signer certificate over header,
certificates and content; that certificate's chain through the certificates in the ticket to
the pinned Apple Root CA - G3 (its public certificate is embedded below and checked against the
pin in ``analysis.cms.APPLE_ROOTS``) or to an extra trust anchor; that the artifact's own hash
(a package's TOC checksum, a disk image's cdhash, an app's main executable cdhash) is listed,
and which code inside is not. What is not: whether Apple revoked the ticket since (Gatekeeper
asks Apple online), and whether an artifact with no stapled ticket is notarized at all (an
online lookup; bundlelint never goes online).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bundlelint.analysis.cms import (
    APPLE_ROOTS,
    ChainResult,
    ChainStatus,
    build_chain,
)
from bundlelint.errors import ParseError
from bundlelint.parsers.ticket import Ticket, parse_ticket

#: Apple Root CA - G3, the root of the ticket signer's chain (public: apple.com/
#: certificateauthority); its SHA-256 is pinned in ``analysis.cms.APPLE_ROOTS``.
APPLE_ROOT_CA_G3 = base64.b64decode(
    "MIICQzCCAcmgAwIBAgIILcX8iNLFS5UwCgYIKoZIzj0EAwMwZzEbMBkGA1UEAwwSQXBwbGUgUm9vdCBDQSAtIEcz"
    "MSYwJAYDVQQLDB1BcHBsZSBDZXJ0aWZpY2F0aW9uIEF1dGhvcml0eTETMBEGA1UECgwKQXBwbGUgSW5jLjELMAkG"
    "A1UEBhMCVVMwHhcNMTQwNDMwMTgxOTA2WhcNMzkwNDMwMTgxOTA2WjBnMRswGQYDVQQDDBJBcHBsZSBSb290IENB"
    "IC0gRzMxJjAkBgNVBAsMHUFwcGxlIENlcnRpZmljYXRpb24gQXV0aG9yaXR5MRMwEQYDVQQKDApBcHBsZSBJbmMu"
    "MQswCQYDVQQGEwJVUzB2MBAGByqGSM49AgEGBSuBBAAiA2IABJjpLz1AcqTtkyJygRMc3RCV8cWjTnHcFBbZDuWm"
    "BSp3ZHtfTjjTuxxEtX/1H7YyYl3J6YRbTzBPEVoA/VhYDKX1DyxNB0cTddqXl5dvMVztK517IDvYuVTZXpmkOlEK"
    "MaNCMEAwHQYDVR0OBBYEFLuw3qFYM4iapIqZ3r6966/ayySrMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQD"
    "AgEGMAoGCCqGSM49BAMDA2gAMGUCMQCD6cHEFl4aXTQY2e3v9GwOAEZLuN+yRhHFD/3meoyhpmvOwgPUnPWTxnS4"
    "at+qIxUCMG1mihDK1A3UT82NQz60imOlM27jbdoXt2QfyFMm+YhidDkLF1vLUagM6BgD56KyKA==")


@dataclass(frozen=True)
class Coverage:
    """One hash the ticket should list: what it names, and whether it is listed."""

    what: str  # "the package", "Contents/MacOS/app (arm64)"
    hash_type: int
    digest: bytes
    listed: bool


@dataclass(frozen=True)
class TicketCheck:
    """A stapled ticket found at ``where`` (a display path) and what was verified about it."""

    where: str
    offset: int | None
    ticket: Ticket | None
    parse_error: ParseError | None
    signature_problem: str | None
    chain: ChainResult | None
    own: Coverage | None  # the artifact itself
    contained: tuple[Coverage, ...]  # code inside it

    @property
    def trusted(self) -> bool:
        return self.ticket is not None and self.signature_problem is None and \
            self.chain is not None and self.chain.trusted

    @property
    def unlisted(self) -> tuple[Coverage, ...]:
        return tuple(c for c in self.contained if not c.listed)


def check_ticket(data: bytes, *, where: str, offset: int, own: tuple[str, int, bytes] | None,
                 contained: Iterable[tuple[str, int, bytes]] = (),
                 anchors: Sequence[bytes] = ()) -> TicketCheck:
    """Parse and verify the ticket ``data``; ``own`` and ``contained`` are (what, hash type,
    digest) of the artifact and of the code in it."""
    try:
        ticket = parse_ticket(data, path=where, base=offset)
    except ParseError as err:
        return TicketCheck(where, offset, None, err, None, None, None, ())
    problem, chain = verify_ticket(ticket, anchors)
    own_cov = None if own is None else Coverage(own[0], own[1], own[2],
                                                _listed(ticket, own[1], own[2]))
    covered = tuple(Coverage(w, t, d, _listed(ticket, t, d)) for w, t, d in contained)
    return TicketCheck(where, offset, ticket, None, problem, chain, own_cov, covered)


def _listed(ticket: Ticket, hash_type: int, digest: bytes) -> bool:
    return any(h.hash_type == hash_type and h.digest == digest[:len(h.digest)]
               for h in ticket.hashes)


def verify_ticket(ticket: Ticket, anchors: Sequence[bytes] = ()) -> tuple[str | None,
                                                                         ChainResult]:
    """(why the signature does not verify or None, the signer's chain)."""
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from bundlelint.analysis.cms import _load
    from bundlelint.parsers.cms import parse_certificate

    try:
        certs = [parse_certificate(der) for der in ticket.certificates]
    except (ValueError, TypeError) as exc:
        return f"a certificate in the ticket is malformed: {exc}", \
            ChainResult((), ChainStatus.NO_LEAF, (str(exc),), None)
    if not certs:
        return "the ticket carries no certificate", \
            ChainResult((), ChainStatus.NO_LEAF, ("no certificate",), None)
    root = parse_certificate(APPLE_ROOT_CA_G3)
    assert root.sha256 in APPLE_ROOTS
    extra = []
    for der in anchors:
        try:
            extra.append(parse_certificate(der))
        except (ValueError, TypeError):
            continue
    chain = build_chain(certs[0], [*certs[1:], root], extra)
    try:
        key = _load(certs[0]).public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return f"the ticket signer's key is {type(key).__name__}, not ECDSA", chain
        key.verify(ticket.signature, ticket.signed_data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "the ECDSA signature does not match the ticket's contents", chain
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return f"the signature cannot be checked: {exc}", chain
    return None, chain
