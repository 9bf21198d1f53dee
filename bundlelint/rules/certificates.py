"""BL22x: the CMS signature: certificate kind, chain, signature validity, timestamp, Team ID.

Every rule here looks only at slices signed with a certificate (a non-empty CMS blob). Ad-hoc
and linker-signed code has no CMS to judge; BL202 already reports it, so these stay quiet.
"""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.analysis.cms import (
    CmsVerification,
    LeafKind,
    SignatureState,
    verify_signature,
)
from bundlelint.bundle import Entry
from bundlelint.findings import Finding
from bundlelint.rules import _evidence as E
from bundlelint.rules._commands import codesign_command
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, doc, policy, rule, source

NOT_DEVELOPER_ID = "The binary is not signed with a valid Developer ID certificate."
SIGNATURE_INVALID = "The signature of the binary is invalid."
NO_TIMESTAMP = "The signature does not include a secure timestamp."
RESIGN = (
    "Re-sign inside-out with your Developer ID Application certificate, the hardened runtime "
    "and `--timestamp`; never with `--deep`."
)


def _verified(ctx: RuleContext) -> Iterator[tuple[Entry, CmsVerification]]:
    """Every certificate-signed slice (parsed or not) with its verification."""
    for entry, macho in ctx.bundle.machos():
        for sl in macho.slices:
            if sl.signature is None:
                continue
            result = verify_signature(ctx.bundle, entry, sl, ctx.options)
            if result.state in (SignatureState.CERTIFICATE, SignatureState.UNPARSEABLE):
                yield entry, result


@rule(
    RuleMeta(
        id="BL220",
        slug="not-developer-id",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.NOT_DEVELOPER_ID,
            E.DEVELOPER_ID_ONLY,
        ),
        summary="Code is signed with a certificate that is not a Developer ID Application",
        what=(
            "Classifies the signing (leaf) certificate by Apple's extension OIDs: Developer ID "
            "Application needs 1.2.840.113635.100.6.1.13 on the leaf and "
            "1.2.840.113635.100.6.2.6 on its issuer. Apple Development, Apple Distribution, "
            "Mac App Store and other certificates are reported by name."
        ),
        why=(
            "Software distributed outside the Mac App Store is notarized only when signed with "
            "a Developer ID Application certificate. An 'Apple Development' certificate is for "
            "running on your own devices and 'Apple Distribution' for App Store submission; the "
            "notary rejects both."
        ),
        how_to_fix=(
            "Create or download a 'Developer ID Application' certificate (Xcode > Settings > "
            "Accounts > Manage Certificates, or developer.apple.com) and re-sign with it. "
            + RESIGN
        ),
        notary_messages=(NOT_DEVELOPER_ID,),
    )
)
def not_developer_id(ctx: RuleContext) -> Iterator[Finding]:
    for entry, v in _verified(ctx):
        leaf = v.leaf
        if leaf is None or v.leaf_kind is LeafKind.DEVELOPER_ID_APPLICATION:
            continue
        yield ctx.finding(
            path=entry.display,
            arch=v.arch,
            offset=v.offset,
            message=(f"{v.arch} slice is signed with \"{leaf.name}\" ({v.leaf_kind.value}), "
                     "not with a Developer ID Application certificate"),
            command=codesign_command(ctx.bundle, entry),
            evidence={"leaf": leaf.name, "kind": v.leaf_kind.value,
                      "apple_oids": ",".join(leaf.apple_oids) or "none",
                      "authority": " < ".join(v.authority)},
        )


@rule(
    RuleMeta(
        id="BL221",
        slug="certificate-chain-untrusted",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.NOT_DEVELOPER_ID,
            E.DEVELOPER_ID_ONLY,
        ),
        summary="The signing certificate does not chain to an Apple root",
        what=(
            "Builds the path from the signer's certificate through the certificates in the "
            "signature, verifying each link's signature with its issuer's key, and requires it "
            "to end at a pinned Apple root (Apple Root CA SHA-256 B0B1730E...F024, or G2/G3)."
        ),
        why=(
            "Gatekeeper and the notary trust only certificates Apple issued. A chain that is "
            "incomplete, broken or rooted elsewhere (a self-made or corporate CA) is rejected "
            "as not signed with a valid Developer ID."
        ),
        how_to_fix=(
            "Sign with a Developer ID Application certificate issued by Apple, and make sure "
            "the Developer ID intermediate is in your keychain so codesign embeds the whole "
            "chain. " + RESIGN
        ),
        notary_messages=(NOT_DEVELOPER_ID,),
    )
)
def certificate_chain_untrusted(ctx: RuleContext) -> Iterator[Finding]:
    for entry, v in _verified(ctx):
        chain = v.chain
        if chain is None or chain.trusted or v.state is not SignatureState.CERTIFICATE:
            continue
        detail = "; ".join(chain.problems)
        yield ctx.finding(
            path=entry.display,
            arch=v.arch,
            offset=v.offset,
            message=(f"{v.arch} slice's certificate chain is {chain.status.value}"
                     + (f": {detail}" if detail else "")),
            command=codesign_command(ctx.bundle, entry),
            evidence={"authority": " < ".join(chain.names) or "none",
                      "status": chain.status.name},
        )


@rule(
    RuleMeta(
        id="BL222",
        slug="cms-signature-invalid",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            E.VERIFY_SIGNATURE,
        ),
        summary="The CMS signature does not verify against this code",
        what=(
            "Checks the CMS signature: it must parse; the signer's signature over the signed "
            "attributes must verify with the leaf certificate's key; messageDigest must equal "
            "SHA-256 of the primary CodeDirectory; the hash-agility attributes must list the "
            "cdhash of every CodeDirectory."
        ),
        why=(
            "The CMS signature is what binds the CodeDirectory (and through it every page of "
            "code) to your certificate. If it does not verify, the code or its CodeDirectory "
            "was changed after signing (a patched binary, a re-run strip or install_name_tool) "
            "and macOS will refuse to run it."
        ),
        how_to_fix=(
            "Re-sign after the last modification of the file (strip, install_name_tool, lipo "
            "and patching all invalidate the signature). " + RESIGN
        ),
        notary_messages=(SIGNATURE_INVALID,),
    )
)
def cms_signature_invalid(ctx: RuleContext) -> Iterator[Finding]:
    for entry, v in _verified(ctx):
        if not v.problems:
            continue
        yield ctx.finding(
            path=entry.display,
            arch=v.arch,
            offset=v.parse_error.offset if v.parse_error else v.offset,
            message=f"{v.arch} slice's CMS signature is invalid: {'; '.join(v.problems)}",
            command=codesign_command(ctx.bundle, entry),
            evidence={
                "message_digest": _tri(v.message_digest_matches),
                "cdhashes_v1": _tri(v.cdhashes_v1_match),
                "cdhashes_v2": _tri(v.cdhashes_v2_match),
                "signature": v.signature_problem or "verifies",
            },
        )


def _tri(value: bool | None) -> str:
    return "absent" if value is None else ("matches" if value else "MISMATCH")


@rule(
    RuleMeta(
        id="BL223",
        slug="secure-timestamp-missing",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.NO_TIMESTAMP,
            doc(
                f'{E.RESOLVING}#Include-a-secure-timestamp',
                "the notary requires a secure timestamp in the code signature",
            ),
        ),
        summary="The signature has no secure timestamp",
        what=(
            "Requires an RFC 3161 timestamp token (the unsigned attribute "
            "1.2.840.113549.1.9.16.2.14) in the CMS signature."
        ),
        why=(
            "The notary requires a timestamp from Apple's time-stamping service so the "
            "signature stays valid after the certificate expires. `codesign` adds one only with "
            "`--timestamp` (Xcode adds it for Developer ID exports)."
        ),
        how_to_fix="Re-sign with `--timestamp` (needs network access to timestamp.apple.com).",
        notary_messages=(NO_TIMESTAMP,),
    )
)
def secure_timestamp_missing(ctx: RuleContext) -> Iterator[Finding]:
    for entry, v in _verified(ctx):
        if v.state is not SignatureState.CERTIFICATE or v.cms is None or v.cms.signer is None:
            continue
        if v.timestamp is not None or v.timestamp_problem is not None:
            continue
        when = f" (signing time {v.signing_time:%Y-%m-%d %H:%M:%S} UTC)" if v.signing_time else ""
        yield ctx.finding(
            path=entry.display,
            arch=v.arch,
            offset=v.offset,
            message=f"{v.arch} slice's signature has no secure timestamp{when}",
            command=codesign_command(ctx.bundle, entry),
        )


@rule(
    RuleMeta(
        id="BL224",
        slug="secure-timestamp-invalid",
        consequence=Consequence.GATEKEEPER_BLOCKS,
        evidence=(
            source(
                "Security",
                "StaticCode.cpp",
                "SecStaticCode::verifySignature / createTimeStampingAndRevocationPolicies",
                "the timestamp is read with CMSDecoderCopySignerTimestampWithPolicy under "
                "SecPolicyCreateAppleTimeStamping; any failure other than a missing timestamp "
                "fails the whole signature",
            ),
            policy(
                "requiring the TSA certificate to chain to Apple's pinned roots is bundlelint's "
                "policy: Apple's verifier applies its time-stamping policy, which we do not "
                "reproduce",
            ),
        ),
        summary="The signature's timestamp is not a valid Apple timestamp of this signature",
        what=(
            "Checks the RFC 3161 token: its messageImprint must be the hash of this "
            "signature's value, the TSA's signature must verify, and the TSA certificate must "
            "chain to a pinned Apple root (via Apple Timestamp Certification Authority)."
        ),
        why=(
            "Apple's verifier reads the timestamp under its time-stamping policy and fails the "
            "whole signature when the token does not verify (a timestamp copied from another "
            "signature, a TSA signature that does not check out). Requiring the TSA certificate "
            "to chain to Apple's roots is bundlelint's policy, stricter than Apple's: codesign "
            "--timestamp always uses Apple's TSA, so any other TSA means a tool we cannot vouch "
            "for made the signature."
        ),
        how_to_fix="Re-sign with `--timestamp` so Apple's TSA timestamps the new signature.",
        notary_messages=(NO_TIMESTAMP,),
    )
)
def secure_timestamp_invalid(ctx: RuleContext) -> Iterator[Finding]:
    for entry, v in _verified(ctx):
        if v.timestamp_problem is not None:
            problems: tuple[str, ...] = (f"the token does not parse: {v.timestamp_problem}",)
        elif v.timestamp is not None:
            problems = v.timestamp.problems
        else:
            continue
        if not problems:
            continue
        yield ctx.finding(
            path=entry.display,
            arch=v.arch,
            offset=v.offset,
            message=f"{v.arch} slice's timestamp is invalid: {'; '.join(problems)}",
            command=codesign_command(ctx.bundle, entry),
            evidence={"tsa": " < ".join(v.timestamp.chain.names) if v.timestamp else "none"},
        )


@rule(
    RuleMeta(
        id="BL225",
        slug="team-id-mismatch",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            source(
                "Security",
                "StaticCode.cpp",
                "SecStaticCode::verifySignature",
                "a CodeDirectory Team ID that differs from the certificate's OU fails "
                "verification ('Team identifier in the signing certificate ... does not match "
                "the team identifier ... in the code directory')",
            ),
        ),
        summary="The CodeDirectory's Team ID differs from the signing certificate's",
        what=(
            "Compares the Team ID in the primary CodeDirectory with the signing certificate's "
            "subject OU (Apple's Team ID)."
        ),
        why=(
            "macOS rejects a signature whose CodeDirectory claims a team other than the "
            "certificate's (SEC StaticCode.cpp), and library validation matches Team IDs. A "
            "mismatch means the CMS was grafted from another signature or the CodeDirectory was "
            "edited."
        ),
        how_to_fix="Re-sign the code with your own certificate; do not copy signatures around. "
                   + RESIGN,
    )
)
def team_id_mismatch(ctx: RuleContext) -> Iterator[Finding]:
    for entry, v in _verified(ctx):
        if v.team_id_matches is not False:
            continue
        yield ctx.finding(
            path=entry.display,
            arch=v.arch,
            offset=v.offset,
            message=(f"{v.arch} slice's CodeDirectory has Team ID {v.cd_team_id or '(none)'} but "
                     f"the certificate \"{v.leaf.name if v.leaf else '?'}\" has "
                     f"{v.team_id or '(none)'}"),
            command=codesign_command(ctx.bundle, entry),
            evidence={"cd_team_id": v.cd_team_id or "", "certificate_team_id": v.team_id or ""},
        )
