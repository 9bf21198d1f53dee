"""Installer packages (``.pkg``): signature and certificate, archive integrity, payload
detritus, scripts, unreadable descriptions (BL820-BL829; docs/formats.md 13)."""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.analysis.cms import LeafKind
from bundlelint.analysis.containers import package_of, payload_appledouble
from bundlelint.errors import ParseError
from bundlelint.findings import Finding
from bundlelint.parsers.appledouble import XATTR_FINDER_INFO, XATTR_RESOURCE_FORK
from bundlelint.rules._evidence import NOT_CHECKED, RESOLVING, SIGNATURE_INVALID
from bundlelint.rules.base import (
    Consequence,
    RuleContext,
    RuleMeta,
    doc,
    notary,
    policy,
    rule,
    source,
)

NOTARIZING = "https://developer.apple.com/documentation/security/notarizing-macos-software-before-distribution"
DEVELOPER_ID = "https://developer.apple.com/developer-id/"
PRODUCTSIGN = "productsign --sign 'Developer ID Installer: NAME (TEAMID)' {package} {signed}"
SIGNED_PACKAGES_ONLY = doc(
    NOTARIZING,
    "the notary service accepts disk images (UDIF), *signed* flat installer packages and zip "
    "archives; an installer package is signed with a Developer ID Installer certificate",
)
INSTALLER_CERTIFICATE = doc(
    DEVELOPER_ID,
    "Developer ID Installer certificates sign installer packages; Developer ID Application "
    "certificates sign apps, and the two are not interchangeable",
)
UNSIGNED_PACKAGE = notary("The binary is not signed.",
                          "https://developer.apple.com/forums/thread/685364 (path: the .pkg "
                          "itself)")
XAR_OPEN = source("xar", "xar/lib/archive.c", "_xar_open_digest_verify_impl",
                  "the archive is refused when the header and TOC checksum styles differ "
                  "(\"Checksum style mismatch!\"), the algorithm is none or MD5, or the stored "
                  "TOC digest differs (\"Checksums do not match!\")")


def _signed_name(path: str) -> str:
    stem = path[:-4] if path.lower().endswith(".pkg") else path
    return f"{stem}-signed.pkg"


def _productsign(ctx: RuleContext) -> str:
    """The productsign command for this input (values shell-quoted by ``fill_template``)."""
    from bundlelint.shellquote import fill_template

    path = ctx.bundle.input_path
    return fill_template(PRODUCTSIGN, package=path, signed=_signed_name(path))


@rule(RuleMeta(
    id="BL820",
    slug="package-unsigned",
    consequence=Consequence.NOTARY_REJECTS,
    evidence=(SIGNED_PACKAGES_ONLY, UNSIGNED_PACKAGE),
    summary="The installer package is not signed",
    what="Reports a `.pkg` whose table of contents has no `<signature>` and no "
    "`<x-signature>`.",
    why="The notary accepts only signed installer packages and answers an unsigned one with "
    "'The binary is not signed.' for the package itself; Gatekeeper blocks an unsigned "
    "package downloaded from the internet ('cannot check it for malicious software').",
    how_to_fix="Sign the package with your Developer ID Installer certificate (`productsign`, "
    "or `pkgbuild`/`productbuild --sign`), then notarize and staple it.",
    fix_command=PRODUCTSIGN,
))
def package_unsigned(ctx: RuleContext) -> Iterator[Finding]:
    report = package_of(ctx.bundle, ctx.options)
    if report is None or report.signed:
        return
    yield ctx.finding(path=report.name, message="the installer package has no signature",
                      command=_productsign(ctx))


@rule(RuleMeta(
    id="BL821",
    slug="package-signed-with-application-certificate",
    consequence=Consequence.NOTARY_REJECTS,
    evidence=(INSTALLER_CERTIFICATE, SIGNED_PACKAGES_ONLY,
              notary("The binary is not signed with a valid Developer ID certificate.",
                     f"{RESOLVING}#Use-a-valid-Developer-ID-certificate")),
    summary="The installer package is signed with a Developer ID Application certificate",
    what="Reports a package whose signing certificate is Developer ID Application (Apple OID "
    "1.2.840.113635.100.6.1.13) instead of Developer ID Installer (...6.1.14): the classic "
    "mistake of passing the app's identity to `productsign` or `productbuild --sign`.",
    why="Packages are signed with Developer ID Installer. `productsign` and `pkgutil` accept "
    "any identity, but the notary rejects a package not signed with a valid Developer ID "
    "Installer certificate and Gatekeeper's install assessment refuses it.",
    how_to_fix="Create a Developer ID Installer certificate (developer.apple.com, "
    "Certificates) and sign the package with it; keep signing the code inside with "
    "Developer ID Application.",
    fix_command=PRODUCTSIGN,
))
def package_application_certificate(ctx: RuleContext) -> Iterator[Finding]:
    report = package_of(ctx.bundle, ctx.options)
    if report is None:
        return
    for check in report.signatures:
        if check.leaf_kind is LeafKind.DEVELOPER_ID_APPLICATION:
            yield ctx.finding(path=report.name, offset=check.offset,
                              message=f"the {check.style} signature is by "
                              f"'{check.leaf_name}', a Developer ID Application certificate",
                              evidence={"signer": check.leaf_name or "",
                                        "team": check.team_id or ""},
                              command=_productsign(ctx))


@rule(RuleMeta(
    id="BL822",
    slug="package-not-developer-id-installer",
    consequence=Consequence.NOTARY_REJECTS,
    evidence=(INSTALLER_CERTIFICATE, SIGNED_PACKAGES_ONLY),
    summary="The installer package is not signed with a Developer ID Installer certificate",
    what="Reports a package signed with a certificate that is neither Developer ID Installer "
    "nor Developer ID Application (reported by BL821): Apple Development, a Mac App Store "
    "installer certificate, a self-signed or other non-Apple certificate.",
    why="Outside the Mac App Store only Developer ID Installer signatures are accepted by the "
    "notary and by Gatekeeper's install assessment.",
    how_to_fix="Sign the package with your Developer ID Installer certificate.",
    fix_command=PRODUCTSIGN,
))
def package_not_installer(ctx: RuleContext) -> Iterator[Finding]:
    report = package_of(ctx.bundle, ctx.options)
    if report is None:
        return
    for check in report.signatures:
        if check.leaf_kind in (LeafKind.DEVELOPER_ID_INSTALLER,
                               LeafKind.DEVELOPER_ID_APPLICATION):
            continue
        who = check.leaf_name or "no readable certificate"
        yield ctx.finding(path=report.name, offset=check.offset,
                          message=f"the {check.style} signature is by '{who}' "
                          f"({check.leaf_kind.value})", evidence={"signer": who},
                          command=_productsign(ctx))


@rule(RuleMeta(
    id="BL823",
    slug="package-signature-invalid",
    consequence=Consequence.NOTARY_REJECTS,
    evidence=(SIGNATURE_INVALID, XAR_OPEN, SIGNED_PACKAGES_ONLY),
    summary="The installer package's signature does not verify or is not rooted at Apple",
    what="Verifies each package signature as `pkgutil --check-signature` does offline: the "
    "RSA signature over the TOC checksum (PKCS#1 v1.5), the CMS signature's signer and "
    "messageDigest over the same checksum, and each certificate chain to a pinned Apple "
    "root (or a `--trust-anchor`). Reports every failure with the signature's offset.",
    why="A signature that does not verify means the package changed after signing, or was "
    "assembled by a tool that wrote it wrongly; the notary rejects it and Installer reports "
    "the package as damaged.",
    how_to_fix="Sign the final package again with `productsign`, and change nothing after.",
    fix_command=PRODUCTSIGN,
))
def package_signature_invalid(ctx: RuleContext) -> Iterator[Finding]:
    report = package_of(ctx.bundle, ctx.options)
    if report is None:
        return
    for check in report.signatures:
        problems = list(check.problems)
        if check.chain.certificates and not check.chain.trusted:
            problems.append(f"the certificate chain is {check.chain.status.value}"
                            + (f" ({'; '.join(check.chain.problems)})"
                               if check.chain.problems else ""))
        if check.timestamp is not None and not check.timestamp.valid:
            problems.append("the timestamp is invalid: " + "; ".join(check.timestamp.problems))
        for problem in problems:
            yield ctx.finding(path=report.name, offset=check.offset,
                              message=f"{check.style} signature: {problem}",
                              command=_productsign(ctx))


@rule(RuleMeta(
    id="BL824",
    slug="package-damaged",
    consequence=Consequence.CANNOT_START,
    evidence=(XAR_OPEN, source("xar", "xar/lib/util.c", "xar_get_heap_offset",
                               "the heap starts at sizeof(xar_header_t) plus the compressed "
                               "TOC length")),
    summary="The installer package's archive is damaged",
    what="Reports what makes libxar refuse the archive or a file in it: a TOC checksum that "
    "does not match or whose style disagrees with the header, a forbidden checksum algorithm, "
    "heap ranges past the end of the file or partly overlapping, a header size other than 28, "
    "and files whose archived or extracted checksum differs from the TOC. Each finding names "
    "the offset.",
    why="Installer opens packages with libxar; an archive it refuses cannot be installed, and "
    "a file whose checksum differs is reported as damaged.",
    how_to_fix="Rebuild the package with `pkgbuild`/`productbuild` and sign it again; do not "
    "edit a package after it is built.",
))
def package_damaged(ctx: RuleContext) -> Iterator[Finding]:
    report = package_of(ctx.bundle, ctx.options)
    if report is None:
        return
    for offset, reason in report.damaged:
        yield ctx.finding(path=report.name, offset=offset, message=reason)


@rule(RuleMeta(
    id="BL825",
    slug="package-trailing-data",
    consequence=Consequence.ADVICE,
    evidence=(policy("bytes after the archive are not a ticket trailer; Installer ignores "
                     "them, but they are not covered by any signature and `stapler` appends "
                     "its ticket after them"),),
    summary="The installer package has data after the archive that is not a stapled ticket",
    what="Reports bytes after the end of the xar heap that are not a `t8lr` ticket trailer "
    "(docs/formats.md 14), with their offset and size.",
    why="Nothing covers them: not the TOC checksum, not the signature. They are usually left "
    "over from a copy or an upload; 7-Zip warns 'There are data after the end of archive'.",
    how_to_fix="Truncate the file to the archive's end, or rebuild it.",
))
def package_trailing_data(ctx: RuleContext) -> Iterator[Finding]:
    report = package_of(ctx.bundle, ctx.options)
    if report is None:
        return
    archive = report.archive
    if archive.tail_size and archive.ticket is None:
        yield ctx.finding(path=report.name, offset=archive.tail_offset,
                          message=f"{archive.tail_size} bytes follow the archive and are not "
                          "a stapled ticket", evidence={"bytes": archive.tail_size})


_DETRITUS = {XATTR_RESOURCE_FORK: "a resource fork (com.apple.ResourceFork)",
             XATTR_FINDER_INFO: "non-zero Finder info (com.apple.FinderInfo)"}


@rule(RuleMeta(
    id="BL826",
    slug="payload-appledouble",
    consequence=Consequence.MAY_FAIL,
    evidence=(
        source("Security", "resources.cpp", "ResourceBuilder::hashFile",
               "under strict checking only the com.apple.ResourceFork and com.apple.FinderInfo "
               "attributes are 'detritus' (errSecCSInvalidAssociatedFileData)"),
        source("copyfile", "copyfile.c", "copyfile_unpack",
               "unpacking an AppleDouble file restores com.apple.FinderInfo only when not all "
               "zero, the resource fork only when present"),
    ),
    summary="A payload holds AppleDouble (._) files with a resource fork or Finder info",
    what="Reports each `._name` file in a package payload whose content carries a resource "
    "fork or non-zero Finder info (judged like BL703 for zips); a `._` file holding only "
    "other attributes is quiet. An unreadable one is reported with its offset.",
    why="pkgbuild stores extended attributes of the files it packs as `._` entries and "
    "Installer restores them: the installed app then carries a resource fork or Finder info, "
    "which codesign's strict verification refuses as detritus.",
    how_to_fix="Clear the attributes before building the package (`xattr -cr MyApp.app`), "
    "sign the app again, then rebuild the package.",
))
def payload_appledouble_rule(ctx: RuleContext) -> Iterator[Finding]:
    for entry, double in payload_appledouble(ctx.bundle):
        if isinstance(double, ParseError):
            yield ctx.finding(path=entry.display, offset=double.offset,
                              message=f"AppleDouble file cannot be parsed: {double.reason}")
            continue
        if double.detritus:
            owner = entry.name[2:]
            yield ctx.finding(path=entry.display,
                              message=f"AppleDouble file gives {owner} "
                              f"{' and '.join(_DETRITUS[d] for d in double.detritus)}",
                              evidence={"attributes": ", ".join(double.detritus)})


@rule(RuleMeta(
    id="BL827",
    slug="package-scripts",
    consequence=Consequence.ADVICE,
    evidence=(doc("https://developer.apple.com/documentation/installer_js",
                  "Installer runs a package's preinstall and postinstall scripts, and a "
                  "Distribution's JavaScript, during installation"),),
    summary="The installer package runs scripts",
    what="Lists each component's scripts (the `Scripts` archive and PackageInfo's "
    "`<scripts>`), and a Distribution's JavaScript, so a reviewer sees what runs.",
    why="Scripts run as root during installation; what they do is not checked by the notary "
    "beyond the code signing of any executable among them.",
    how_to_fix="Nothing to fix if the scripts are intended; keep them minimal, and sign any "
    "binary they carry.",
))
def package_scripts(ctx: RuleContext) -> Iterator[Finding]:
    report = package_of(ctx.bundle, ctx.options)
    if report is None:
        return
    for component in report.components:
        names = list(component.scripts)
        if component.info is not None:
            names += [f"{phase} ({file})" for phase, file in component.info.scripts
                      if file.lstrip("./") not in component.scripts]
        if names:
            where = f"{report.name}/{component.path}" if component.path else report.name
            yield ctx.finding(path=where, message=f"runs scripts: {', '.join(names)}",
                              evidence={"scripts": ", ".join(names)})
    if report.distribution is not None and report.distribution.has_javascript:
        yield ctx.finding(path=f"{report.name}/Distribution",
                          message="the Distribution runs installer JavaScript")


@rule(RuleMeta(
    id="BL828",
    slug="package-part-unreadable",
    consequence=Consequence.NOT_CHECKED,
    evidence=(NOT_CHECKED,),
    summary="A part of the installer package could not be read",
    what="Reports a PackageInfo, Distribution, Payload or Scripts that bundlelint could not "
    "parse (malformed XML, a corrupt or truncated compressed stream, a cpio header that "
    "lies, a decompression bomb), naming the offset.",
    why="What is inside it was not linted, so nothing in it is vouched for.",
    how_to_fix="Rebuild the package with Apple's tools; if Installer opens it, report the "
    "file to bundlelint.",
))
def package_part_unreadable(ctx: RuleContext) -> Iterator[Finding]:
    report = package_of(ctx.bundle, ctx.options)
    if report is None:
        return
    errors: list[ParseError] = []
    if report.distribution_error is not None:
        errors.append(report.distribution_error)
    for component in report.components:
        errors += [e for e in (component.info_error, component.payload_error) if e is not None]
    for err in errors:
        yield ctx.finding(path=report.name, offset=err.offset,
                          message=f"{err.format}: {err.reason}")


@rule(RuleMeta(
    id="BL829",
    slug="package-unreadable",
    consequence=Consequence.NOT_CHECKED,
    evidence=(NOT_CHECKED, XAR_OPEN),
    summary="The installer package cannot be read",
    what="Reports a file that starts with the xar magic but whose header or table of "
    "contents cannot be read (truncated, a TOC length past the end, a corrupt or oversized "
    "zlib stream, malformed or hostile XML), with the offset.",
    why="Nothing in the package was linted. Installer opens packages with libxar, which "
    "refuses such an archive too.",
    how_to_fix="Rebuild the package with `pkgbuild`/`productbuild`.",
))
def package_unreadable(ctx: RuleContext) -> Iterator[Finding]:
    err = ctx.bundle.package_error
    if err is not None:
        yield ctx.finding(path=ctx.bundle.name, offset=err.offset,
                          message=f"the package cannot be read: {err.reason}")
