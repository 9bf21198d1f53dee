"""BL230-BL239: does ``_CodeSignature/CodeResources`` still match the files of the bundle?

The rules read ``analysis.seal`` results, never bytes. They live apart from the code-page rules
(``rules/integrity.py``) because they wait for different work: file digests, which the hashing
pool starts first (during the walk), not code pages, which it starts last.
"""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.analysis.seal import IssueKind, SealIssue, sealed_bundles, unsealed_content
from bundlelint.bundle import Bundle, EntryKind
from bundlelint.errors import FileSkipped, ParseError
from bundlelint.findings import Applicability, Finding
from bundlelint.layout import BUNDLE_EXTENSIONS, BundleGeometry
from bundlelint.rules import _evidence as E
from bundlelint.rules._commands import codesign_command
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, doc, rule, source
from bundlelint.rules.integrity import BUNDLE_SIGN_COMMAND, INVALID, RESIGN_BUNDLE
from bundlelint.shellquote import fill_template


def _bundle_command(bundle: Bundle, layout: BundleGeometry) -> str:
    if layout.main_executable is not None:
        entry = bundle.entry(layout.main_executable)
        if entry is not None:
            return codesign_command(bundle, entry)
    return fill_template(BUNDLE_SIGN_COMMAND, target=bundle.shell_path(layout.bundle_dir.relpath))


def _seal_findings(ctx: RuleContext, kind: IssueKind) -> Iterator[Finding]:
    layouts = {lay.bundle_dir.relpath: lay for lay in ctx.bundle.layout.geometries()}
    for seal in sealed_bundles(ctx.bundle):
        if seal.error is not None:
            continue  # BL236
        issues: tuple[SealIssue, ...] = seal.of_kind(kind)
        for issue in issues:
            evidence = {"seal": seal.code_resources, "path": issue.relpath}
            if issue.expected:
                evidence["sealed"] = issue.expected
            if issue.actual:
                evidence["actual"] = issue.actual
            yield ctx.finding(
                path=issue.path,
                message=f"{issue.detail} (sealed by {seal.code_resources})",
                command=_bundle_command(ctx.bundle, layouts[seal.bundle_dir.relpath]),
                evidence=evidence,
            )


@rule(
    RuleMeta(
        id="BL230",
        slug="sealed-resource-modified",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            E.MODIFIED_AFTER_SIGNING,
            source(
                "Security",
                "StaticCode.cpp",
                "SecStaticCode::validateResource",
                "a changed sealed file is errSecCSBadResource, 'a sealed resource is missing or "
                "invalid'",
            ),
        ),
        summary="A sealed resource changed after signing",
        what=(
            "Hashes every regular file listed in files2 of _CodeSignature/CodeResources "
            "(SHA-256 hash2; SHA-1 only when there is no hash2) and compares symlink targets."
        ),
        why=(
            "codesign --verify reports 'a sealed resource is missing or invalid' and the "
            "notary rejects the bundle when any sealed file differs from the seal."
        ),
        how_to_fix=RESIGN_BUNDLE,
        fix_command=BUNDLE_SIGN_COMMAND,
        notary_messages=(INVALID,),
    )
)
def sealed_resource_modified(ctx: RuleContext) -> Iterator[Finding]:
    yield from _seal_findings(ctx, IssueKind.MODIFIED)


@rule(
    RuleMeta(
        id="BL231",
        slug="sealed-resource-missing",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            E.MODIFIED_AFTER_SIGNING,
            source(
                "Security",
                "StaticCode.cpp",
                "SecStaticCode::checkOptionalResource",
                "a sealed, non-optional file that is gone is errSecCSBadResource "
                "(kSecCFErrorResourceMissing)",
            ),
        ),
        summary="A sealed resource is missing",
        what=(
            "Reports files2 entries that are not on disk, unless the entry or the rule that "
            "sealed it is optional (localisations)."
        ),
        why="codesign --verify and the notary reject a bundle whose sealed files were removed.",
        how_to_fix=RESIGN_BUNDLE,
        fix_command=BUNDLE_SIGN_COMMAND,
        notary_messages=(INVALID,),
    )
)
def sealed_resource_missing(ctx: RuleContext) -> Iterator[Finding]:
    yield from _seal_findings(ctx, IssueKind.MISSING)


@rule(
    RuleMeta(
        id="BL232",
        slug="file-added-after-signing",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            E.MODIFIED_AFTER_SIGNING,
            source(
                "Security",
                "StaticCode.cpp",
                "SecStaticCode::validateResource",
                "a file the rules seal but the seal does not list is errSecCSBadResource "
                "(kSecCFErrorResourceAdded)",
            ),
        ),
        summary="A file was added to the bundle after signing",
        what=(
            "Evaluates the seal's rules2 against every file under the seal base (highest weight "
            "wins; _CodeSignature, the stapled ticket, _MASReceipt and the main executable are "
            "always excluded) and reports files the rules would seal but files2 does not list. "
            "In a zip, the AppleDouble `._name` entries that `ditto -c -k` writes beside a "
            "file (or under `__MACOSX/`) are that file's extended attributes once ditto "
            "unpacks it, not files: BL703 judges them, this rule does not."
        ),
        why=(
            "codesign --verify reports 'file added' and the notary rejects the bundle. Typical "
            "causes: a build step that copies files in after signing, .DS_Store-like litter "
            "outside the omitted names, or a nested framework dropped in late."
        ),
        how_to_fix=RESIGN_BUNDLE,
        fix_command=BUNDLE_SIGN_COMMAND,
        notary_messages=(INVALID,),
    )
)
def file_added_after_signing(ctx: RuleContext) -> Iterator[Finding]:
    yield from _seal_findings(ctx, IssueKind.ADDED)


@rule(
    RuleMeta(
        id="BL233",
        slug="nested-code-modified",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            E.MODIFIED_AFTER_SIGNING,
            source(
                "Security",
                "StaticCode.cpp",
                "SecStaticCode::validateNestedCode",
                "nested code whose cdhash no longer matches the seal is errSecCSBadNestedCode",
            ),
        ),
        summary="Nested code was changed or re-signed after the bundle was sealed",
        what=(
            "For each nested-code entry in files2 (a bundle directory or a Mach-O in a code "
            "location), compares the recorded cdhash with the cdhashes of the code now on disk."
        ),
        why=(
            "The outer seal pins each nested framework, helper and dylib by cdhash. Re-signing "
            "or rebuilding one after the outer bundle was signed breaks the outer seal."
        ),
        how_to_fix=(
            "Sign inside-out: the nested code first, then the bundle that contains it, every "
            "time the nested code changes."
        ),
        fix_command=BUNDLE_SIGN_COMMAND,
        notary_messages=(INVALID,),
    )
)
def nested_code_modified(ctx: RuleContext) -> Iterator[Finding]:
    yield from _seal_findings(ctx, IssueKind.NESTED)




@rule(
    RuleMeta(
        id="BL234",
        slug="resources-unsealed",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            source(
                "Security",
                "StaticCode.cpp",
                "SecStaticCode::loadResources",
                "a bundle with a resource directory and no sealed resources is "
                "errSecCSResourcesNotFound",
            ),
        ),
        summary="A signed bundle has no resource seal",
        what=(
            "Reports a bundle (.app, .framework, .appex, .xpc, ...) whose main executable "
            "carries a codesign signature (not just the linker's) but which has no "
            "_CodeSignature/CodeResources, whatever files the bundle holds."
        ),
        why=(
            "Every bundle has a resource base (its Contents or version directory), so "
            "verification requires a resource seal: without one `SecStaticCode::loadResources` "
            "(Security, StaticCode.cpp) throws errSecCSResourcesNotFound even when no file "
            "would be sealed. The executable was signed as a loose file, not the bundle: "
            "codesign --verify fails on the bundle and the notary rejects it."
        ),
        how_to_fix="Sign the bundle directory, not the executable inside it.",
        fix_command=BUNDLE_SIGN_COMMAND,
        notary_messages=(INVALID,),
    )
)
def resources_unsealed(ctx: RuleContext) -> Iterator[Finding]:
    for layout in ctx.bundle.layout.geometries():
        if layout.bundle_dir.extension not in BUNDLE_EXTENSIONS or layout.main_executable is None:
            continue
        if ctx.bundle.entry(layout.code_resources) is not None:
            continue
        entry = ctx.bundle.entry(layout.main_executable)
        if entry is None or entry.kind is not EntryKind.MACHO:
            continue
        try:
            macho = ctx.bundle.macho(entry)
        except ParseError:
            continue
        cds = [sl.signature.primary for sl in macho.slices if sl.signature is not None]
        signed = [cd for cd in cds if cd is not None and not cd.is_linker_signed]
        if not signed or any(cd.special_slot_hash(3) for cd in signed if cd is not None):
            continue  # unsigned/linker-signed: BL201/BL202; slot 3 bound: BL214
        content = unsealed_content(ctx.bundle, layout)
        shown = ", ".join(content[:5]) + (f" and {len(content) - 5} more" if len(content) > 5
                                          else "")
        files = f" and {len(content)} file(s) are not sealed ({shown})" if content else ""
        yield ctx.finding(
            path=layout.bundle_dir.display,
            message=f"{layout.bundle_dir.display} has a signed executable but no "
            f"_CodeSignature/CodeResources: verification fails (errSecCSResourcesNotFound)"
            f"{files}",
            command=_bundle_command(ctx.bundle, layout),
            evidence={"unsealed": len(content)},
        )


@rule(
    RuleMeta(
        id="BL235",
        slug="stapled-ticket-present",
        consequence=Consequence.ADVICE,
        evidence=(
            doc(
                "https://developer.apple.com/documentation/security/customizing-the-notarization-workflow",
                "stapling attaches the ticket so that Gatekeeper can find it offline",
            ),
        ),
        summary="A notarization ticket is stapled to the bundle",
        what=(
            "Reports a regular file Contents/CodeResources (where `xcrun stapler staple` puts "
            "the ticket) in an app bundle. A bare Mach-O cannot carry a stapled ticket, so "
            "nothing is reported for one."
        ),
        why=(
            "A stapled ticket lets Gatekeeper accept the app offline. Its contents are not "
            "checked here (they are opaque signed data); its presence says the bundle was "
            "notarized at some point, not that this exact build was."
        ),
        how_to_fix="Nothing to fix. Staple again after every re-signing: xcrun stapler staple.",
        fix_applicability=Applicability.DISPLAY,
    )
)
def stapled_ticket_present(ctx: RuleContext) -> Iterator[Finding]:
    for layout in ctx.bundle.layout.geometries():
        bd = layout.bundle_dir
        if bd.contents != "Contents/":
            continue
        entry = ctx.bundle.entry(bd.child("CodeResources"))
        if entry is None or entry.kind in (EntryKind.DIRECTORY, EntryKind.SYMLINK,
                                           EntryKind.SPECIAL):
            continue
        yield ctx.finding(
            path=entry.display,
            message=f"a notarization ticket ({entry.size} bytes) is stapled to {bd.display}; "
            "its contents are not verified offline (a bare Mach-O could not carry one)",
            evidence={"size": entry.size},
        )


@rule(
    RuleMeta(
        id="BL236",
        slug="code-resources-invalid",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            source(
                "Security",
                "StaticCode.cpp",
                "SecStaticCode::loadResources",
                "a seal without rules/files dictionaries is errSecCSResourcesInvalid, 'the "
                "sealed resource directory is invalid'",
            ),
        ),
        summary="The resource seal (_CodeSignature/CodeResources) cannot be read",
        what=(
            "Reports a CodeResources file that is not a plist dictionary of files/files2/"
            "rules/rules2 of the expected types."
        ),
        why="Apple's verifier cannot check a seal it cannot parse; the bundle is rejected.",
        how_to_fix="Re-sign the bundle so codesign writes a fresh seal.",
        fix_command=BUNDLE_SIGN_COMMAND,
        notary_messages=(INVALID,),
    )
)
def code_resources_invalid(ctx: RuleContext) -> Iterator[Finding]:
    layouts = {lay.bundle_dir.relpath: lay for lay in ctx.bundle.layout.geometries()}
    for seal in sealed_bundles(ctx.bundle):
        if seal.error is None or isinstance(seal.error, FileSkipped):
            continue  # a CodeResources over --max-file-size is not read: BL008 says so
        yield ctx.finding(
            path=seal.code_resources,
            offset=seal.error.offset,
            message=f"{seal.error.format}: {seal.error.reason}",
            command=_bundle_command(ctx.bundle, layouts[seal.bundle_dir.relpath]),
        )
