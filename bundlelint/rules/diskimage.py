"""BL80x: the disk image itself (a ``.dmg`` input): can its structure, its file system and its
own signature be read, and is it signed the way Gatekeeper and the notary expect.

These rules read ``Bundle.disk_image`` (a ``DiskImageReport`` built when the image was opened)
and the signature check of analysis/diskimage.py; never the image's bytes. The apps inside the
image are linted by every other rule, as if they were on disk.

What Apple does with the image's own signature (docs/formats.md 8.5): Gatekeeper assesses a
downloaded image as a document (Security ``PolicyEngine::evaluateDocOpen``); asked about the
image's own signature (``spctl --assess --type open --context context:primary-signature``) it
answers "no usable signature" for an unsigned image, and only a Developer ID signature can be
accepted. The notary accepts an unsigned image whose contents are signed: the image is then
notarized but has no signature to carry a stapled ticket of its own. So an unsigned, ad-hoc
or non-Developer ID image is a warning; an image whose signature does not match its bytes is
an error, because codesign's verification (``DiskImageRep::strictValidate``,
``SecStaticCode::validateExecutable``) and the notary both refuse it.
"""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.analysis.diskimage import ImageSignatureCheck, ImageSigning, image_signature
from bundlelint.bundle import Bundle
from bundlelint.findings import Applicability, Finding
from bundlelint.parsers.diskimage import DiskImageReport
from bundlelint.rules import _evidence as E
from bundlelint.rules._commands import IDENTITY
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, rule, source, toolchain
from bundlelint.shellquote import fill_template, quote_path

SIGN_IMAGE = "codesign --force --timestamp --sign " + IDENTITY + " {image}"
NOTARIZE_IMAGE = (
    "Sign the image with your Developer ID Application certificate after building it from "
    "the signed app (`codesign --force --timestamp --sign \"Developer ID Application: NAME "
    "(TEAMID)\" MyApp.dmg`), then notarize and staple the image itself: `xcrun notarytool "
    "submit MyApp.dmg --keychain-profile PROFILE --wait` and `xcrun stapler staple MyApp.dmg`."
)

DOC_OPEN = source(
    "Security", "policyengine.cpp", "PolicyEngine::evaluateDocOpen",
    "a downloaded disk image is assessed as a document; with the primary-signature context "
    "the image's own code signature is evaluated, and an image without one is answered 'no "
    "usable signature'")
PRIMARY_SIGNATURE_SEEN = toolchain(
    "`spctl -a -t open --context context:primary-signature` on a notarized, stapled but "
    "unsigned image: 'rejected (source=no usable signature)'; the fix was to sign the image "
    "before notarizing it",
    "https://github.com/arjunrajlaboratory/Memex/pull/26")
STRICT_VALIDATE = source(
    "Security", "diskimagerep.cpp", "DiskImageRep::strictValidate",
    "the CodeDirectory must cover exactly the bytes before the signature, else "
    "errSecCSSignatureInvalid; setup() refuses a signature that does not fill the space "
    "before the trailer (errSecCSBadDiskImageFormat)")
REP_SPECIFIC = source(
    "Security", "diskimagerep.cpp", "DiskImageRep::component",
    "special slot 6 (cdRepSpecificSlot) is the koly trailer, so changing the trailer breaks "
    "the signature")


def _report(bundle: Bundle) -> DiskImageReport | None:
    return bundle.disk_image


def _signature(ctx: RuleContext) -> tuple[DiskImageReport, ImageSignatureCheck] | None:
    """The image and its verified signature, when the input is a disk image whose trailer
    reads (the signature covers the raw bytes, so it is judged even if the rest is broken)."""
    report = _report(ctx.bundle)
    check = image_signature(ctx.bundle, ctx.options)
    if report is None or check is None:
        return None  # not an image, or its trailer is unreadable (BL800) or encrypted (BL801)
    return report, check


def _sign_command(report: DiskImageReport) -> str:
    return fill_template(SIGN_IMAGE, image=quote_path(report.name))


@rule(
    RuleMeta(
        id="BL800",
        slug="disk-image-unreadable",
        consequence=Consequence.NOT_CHECKED,
        evidence=(E.NOT_CHECKED,),
        summary="The disk image cannot be read",
        what="Reports a .dmg whose UDIF structure (koly trailer, XML property list, block "
        "tables, partition map) is truncated, malformed or hostile, naming the offset.",
        why="Nothing inside the image was checked. macOS's disk-image framework refuses such an "
        "image too, so users could not open it.",
        how_to_fix="Create the image again with `hdiutil create -srcfolder DIR -format UDZO "
        "MyApp.dmg` (or your packaging tool), then sign and notarize it.",
        fix_applicability=Applicability.UNSAFE,
    )
)
def disk_image_unreadable(ctx: RuleContext) -> Iterator[Finding]:
    report = _report(ctx.bundle)
    if report is not None and report.error is not None and report.encrypted is None:
        yield ctx.finding(path=report.name, offset=report.error.offset,
                          message=f"cannot read the disk image: {report.error.reason}")


@rule(
    RuleMeta(
        id="BL801",
        slug="disk-image-encrypted",
        consequence=Consequence.NOT_CHECKED,
        evidence=(E.NOT_CHECKED, source(
            "Security", "encdiskimagerep.cpp", "EncDiskImageRep::readHeader",
            "an encrypted image starts with the encrcdsa header; its data is encrypted")),
        summary="The disk image is encrypted",
        what="Reports an encrypted disk image (encrcdsa or cdsaencr): its contents cannot be "
        "read without the passphrase.",
        why="Nothing inside was checked, and users must type a passphrase before they can "
        "even see the app; software for distribution is shipped in an unencrypted image.",
        how_to_fix="Build the distribution image without encryption: `hdiutil create "
        "-srcfolder DIR -format UDZO MyApp.dmg` (no -encryption option).",
    )
)
def disk_image_encrypted(ctx: RuleContext) -> Iterator[Finding]:
    report = _report(ctx.bundle)
    if report is not None and report.encrypted is not None:
        yield ctx.finding(path=report.name, offset=0,
                          message=f"the disk image is encrypted ({report.encrypted}): its "
                          "contents were not checked")


@rule(
    RuleMeta(
        id="BL802",
        slug="disk-image-filesystem-unreadable",
        consequence=Consequence.NOT_CHECKED,
        evidence=(E.NOT_CHECKED,),
        summary="A partition of the disk image holds no file system bundlelint reads",
        what="Reports a partition that holds neither HFS+/HFSX nor APFS (found by the volume "
        "header's content, not the partition type), or whose file system failed to open.",
        why="The files in that partition were not checked.",
        how_to_fix="Create the image with an HFS+ or APFS file system (`hdiutil create -fs "
        "APFS` or `-fs HFS+`), the two that macOS mounts from a distribution image.",
    )
)
def disk_image_filesystem_unreadable(ctx: RuleContext) -> Iterator[Finding]:
    report = _report(ctx.bundle)
    if report is None or report.error is not None:
        return
    for problem in report.volume_problems:
        yield ctx.finding(path=report.name, offset=problem.offset,
                          message=problem.reason + (" (offset on the disk inside the image)"
                                                    if problem.offset is not None else ""))
    if report.partitions is not None and not report.partitions.volumes \
            and not report.volume_problems:
        yield ctx.finding(path=report.name, message="the disk image holds no HFS+ or APFS "
                          "volume: nothing inside was checked")


@rule(
    RuleMeta(
        id="BL803",
        slug="disk-image-unsigned",
        consequence=Consequence.MAY_FAIL,
        evidence=(DOC_OPEN, PRIMARY_SIGNATURE_SEEN),
        summary="The disk image is not signed",
        what="Reports a .dmg whose koly trailer has no code signature.",
        why="Gatekeeper's assessment of the image's own signature answers 'no usable "
        "signature' (a signed, notarized image is judged before it is mounted); the notary "
        "still accepts an unsigned image whose contents are signed, and each app inside is "
        "still judged on its own when it is launched.",
        how_to_fix=NOTARIZE_IMAGE,
        fix_command=SIGN_IMAGE,
    )
)
def disk_image_unsigned(ctx: RuleContext) -> Iterator[Finding]:
    found = _signature(ctx)
    if found is not None and found[1].state is ImageSigning.UNSIGNED:
        report = found[0]
        yield ctx.finding(path=report.name, offset=report.file_size - 512,
                          message="the disk image is not signed (its koly trailer has no code "
                          "signature)", command=_sign_command(report))


@rule(
    RuleMeta(
        id="BL804",
        slug="disk-image-adhoc-signed",
        consequence=Consequence.MAY_FAIL,
        evidence=(DOC_OPEN,),
        summary="The disk image is signed ad hoc",
        what="Reports a .dmg whose own signature has no certificate (an ad-hoc signature).",
        why="An ad-hoc signature names no developer: Gatekeeper's assessment of the image's "
        "signature cannot accept it, as for an unsigned image.",
        how_to_fix=NOTARIZE_IMAGE,
        fix_command=SIGN_IMAGE,
    )
)
def disk_image_adhoc(ctx: RuleContext) -> Iterator[Finding]:
    found = _signature(ctx)
    if found is not None and found[1].state is ImageSigning.ADHOC:
        report, check = found
        yield ctx.finding(path=report.name, offset=check.offset,
                          message=f"the disk image is signed ad hoc (identifier "
                          f"{check.identifier!r}): no Developer ID", command=_sign_command(report))


@rule(
    RuleMeta(
        id="BL805",
        slug="disk-image-not-developer-id",
        consequence=Consequence.MAY_FAIL,
        evidence=(DOC_OPEN, E.DEVELOPER_ID_ONLY),
        summary="The disk image is not signed with a Developer ID Application certificate",
        what="Reports a .dmg signed with a certificate that is not a Developer ID Application "
        "certificate chaining to Apple's root (an Apple Development, Installer or self-signed "
        "certificate).",
        why="Only Developer ID signatures are accepted by Gatekeeper for software downloaded "
        "outside the App Store; a disk image signed with a Developer ID Installer certificate "
        "(the package certificate) is the classic mistake.",
        how_to_fix=NOTARIZE_IMAGE,
        fix_command=SIGN_IMAGE,
    )
)
def disk_image_not_developer_id(ctx: RuleContext) -> Iterator[Finding]:
    found = _signature(ctx)
    if found is None:
        return
    report, check = found
    if check.state is not ImageSigning.CERTIFICATE or check.is_developer_id:
        return
    verification = check.verification
    chain = verification.chain if verification else None
    leaf = verification.leaf if verification else None
    what = check.leaf_kind.value
    if chain is not None and not chain.trusted:
        what += f", chain {chain.status.value}"
    signer = f" ({leaf.name})" if leaf is not None else ""
    yield ctx.finding(path=report.name, offset=verification.offset if verification else None,
                      message=f"the disk image is signed with a certificate that is not "
                      f"Developer ID Application: {what}{signer}", command=_sign_command(report))


@rule(
    RuleMeta(
        id="BL806",
        slug="disk-image-signature-invalid",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(STRICT_VALIDATE, REP_SPECIFIC, E.SIGNATURE_INVALID, E.VERIFY_SIGNATURE),
        summary="The disk image's signature does not match the image",
        what="Reports a signed .dmg whose CodeDirectory hash of the image bytes, trailer hash "
        "(special slot 6), code limit, SuperBlob frame or CMS signature does not verify.",
        why="The image changed after it was signed (resized, converted, its trailer edited) or "
        "the signature is malformed: codesign --verify fails and the notary reports the "
        "signature as invalid.",
        how_to_fix="Sign the image again after its last change (`codesign --force --timestamp "
        "--sign \"Developer ID Application: NAME (TEAMID)\" MyApp.dmg`), then notarize and "
        "staple it.",
        fix_command=SIGN_IMAGE,
    )
)
def disk_image_signature_invalid(ctx: RuleContext) -> Iterator[Finding]:
    found = _signature(ctx)
    if found is None:
        return
    report, check = found
    if check.state is ImageSigning.UNREADABLE or check.problems:
        for problem in check.problems:
            yield ctx.finding(path=report.name, offset=check.offset,
                              message=f"the disk image's signature is invalid: {problem}",
                              command=_sign_command(report))
