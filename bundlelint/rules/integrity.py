"""BL210-BL219: do the signature's hashes still match the code?

Each CodeDirectory is compared with the bytes it signs (code pages, Info.plist, requirements,
CodeResources, entitlements). The rules read ``analysis.codehash`` results, never bytes. The
resource seal (BL23x) is ``rules/resource_seal.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.analysis.codehash import (
    CDVerification,
    SlotStatus,
    code_verifications,
)
from bundlelint.findings import Finding
from bundlelint.rules import _evidence as E
from bundlelint.rules._commands import IDENTITY, codesign_command
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, rule, source

INVALID = "The signature of the binary is invalid."
RESIGN_BUNDLE = (
    "Re-sign after the last change, inside-out: nested code first, then the bundle itself "
    "(never --deep). Make every build step that edits files (copying resources, stripping, "
    "install_name_tool, patching Info.plist) run before signing."
)
BUNDLE_SIGN_COMMAND = ("codesign --force --options runtime --timestamp --sign "
                       f"{IDENTITY} {{target}}")
MODIFIERS = ("strip, upx, install_name_tool, lipo on signed slices, or a patch to the binary "
             "after the linker or codesign signed it")


def _code_results(ctx: RuleContext) -> Iterator[tuple[str, str, str, CDVerification]]:
    """(entry relpath, entry display, slice arch, CD verdict) for every CD in the input."""
    for entry, result in code_verifications(ctx.bundle):
        for sl in result.slices:
            for cd in sl.code_directories:
                yield entry.relpath, entry.display, sl.arch, cd


def _sign_cmd(ctx: RuleContext, relpath: str) -> str | None:
    entry = ctx.bundle.entry(relpath)
    return codesign_command(ctx.bundle, entry) if entry is not None else None


def _cd_label(cd: CDVerification) -> str:
    return f"{cd.slot_label} CodeDirectory ({cd.hash_name})"


@rule(
    RuleMeta(
        id="BL210",
        slug="code-modified-after-signing",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            E.MODIFIED_AFTER_SIGNING,
            source(
                "Security",
                "StaticCode.cpp",
                "SecStaticCode::validateExecutable",
                "a code page whose hash differs from its slot fails validation with "
                "errSecCSSignatureFailed",
            ),
        ),
        summary="Code pages do not match their signed hashes",
        what=(
            "Hashes every code page of every slice over [0, codeLimit) with each CodeDirectory's "
            "hash type and page size (4 KiB, 16 KiB, or one hash when pageSize is 0) and "
            "compares with the stored code-slot hashes. Ad-hoc and linker-signed code is "
            "checked too."
        ),
        why=(
            "A page that no longer matches means the file was changed after it was signed: by "
            f"{MODIFIERS}. The kernel kills such code on Apple silicon when the page is loaded, "
            "and the notary rejects it."
        ),
        how_to_fix=(
            "Do every edit to the binary (strip, install_name_tool, packing) before signing, "
            "then sign it again; a linker-signed Go or Rust binary that was edited afterwards "
            "must be re-signed (codesign -s - at least, a Developer ID for distribution)."
        ),
        notary_messages=(INVALID,),
    )
)
def code_modified(ctx: RuleContext) -> Iterator[Finding]:
    for relpath, display, arch, cd in _code_results(ctx):
        pages = cd.pages
        if not pages.bad_pages or pages.first_bad_page is None:
            continue
        page = "one hash over the whole range" if cd.page_size == 0 else \
            f"{cd.page_size}-byte pages"
        yield ctx.finding(
            path=display,
            arch=arch,
            offset=pages.first_bad_offset,
            message=(
                f"{arch} slice: {pages.bad_pages} of {pages.pages_checked} code pages do not "
                f"match the {_cd_label(cd)}, {page}; first bad page {pages.first_bad_page} at "
                f"file offset {pages.first_bad_offset:#x}. The file was changed after signing "
                f"(usually {MODIFIERS})"
            ),
            command=_sign_cmd(ctx, relpath),
            evidence={"slot": f"{cd.slot:#x}", "hash_type": cd.hash_name,
                      "page_size": cd.page_size, "bad_pages": pages.bad_pages,
                      "first_bad_page": pages.first_bad_page,
                      "first_bad_offset": f"{pages.first_bad_offset:#x}"},
        )


@rule(
    RuleMeta(
        id="BL211",
        slug="code-directory-inconsistent",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            source(
                "Security",
                "codedirectory.cpp",
                "CodeDirectory::checkIntegrity",
                "a CodeDirectory whose arrays or limits fall outside its blob is "
                "errSecCSSignatureFailed",
            ),
        ),
        summary="A CodeDirectory does not describe the file it is in",
        what=(
            "Checks that nCodeSlots equals ceil(codeLimit / pageSize), that codeLimit does not "
            "run past the signature's offset or the end of the slice, and that the hash type "
            "is one Apple's verifier knows."
        ),
        why=(
            "Apple's verifier rejects a CodeDirectory whose slot count or code limit does not "
            "fit the file: the signature was damaged, truncated, or made by a broken tool."
        ),
        how_to_fix="Sign the file again with codesign (or rebuild it so the linker signs it).",
        notary_messages=(INVALID,),
    )
)
def code_directory_inconsistent(ctx: RuleContext) -> Iterator[Finding]:
    for relpath, display, arch, cd in _code_results(ctx):
        for problem in cd.problems:
            yield ctx.finding(
                path=display,
                arch=arch,
                message=f"{arch} slice, {_cd_label(cd)}: {problem}",
                command=_sign_cmd(ctx, relpath),
                evidence={"slot": f"{cd.slot:#x}", "code_limit": f"{cd.code_limit:#x}",
                          "n_code_slots": cd.n_code_slots,
                          "expected_code_slots": cd.expected_code_slots},
            )


def _slot_findings(ctx: RuleContext, slots: tuple[int, ...], *, unbound: bool,
                   describe: dict[SlotStatus, str]) -> Iterator[Finding]:
    for relpath, display, arch, cd in _code_results(ctx):
        for slot in slots:
            result = cd.special(slot)
            if result is None:
                continue
            bad = result.status.is_problem or (unbound and result.status is SlotStatus.UNBOUND)
            if not bad:
                continue
            text = describe[result.status].format(name=result.name, source=result.source)
            yield ctx.finding(
                path=display,
                arch=arch,
                message=f"{arch} slice, {_cd_label(cd)}, special slot {slot} ({result.name}): "
                f"{text}",
                command=_sign_cmd(ctx, relpath),
                evidence={"slot": slot, "status": result.status.value,
                          "stored": result.stored or "", "actual": result.actual or ""},
            )


@rule(
    RuleMeta(
        id="BL212",
        slug="info-plist-modified",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            E.MODIFIED_AFTER_SIGNING,
            source(
                "Security",
                "StaticCode.cpp",
                "errorForSlot / SecStaticCode::validateComponent",
                "a special slot 1 mismatch is errSecCSInfoPlistFailed, 'invalid Info.plist "
                "(plist or signature have been modified)'",
            ),
        ),
        summary="Info.plist changed after signing",
        what=(
            "Compares special slot 1 of each CodeDirectory with the hash of the bundle's "
            "Contents/Info.plist (for a bundle's main executable) or of the embedded "
            "__TEXT,__info_plist section (for a standalone Mach-O)."
        ),
        why=(
            "The Info.plist is sealed by the main executable's signature. Editing it after "
            "signing (a version bump, plutil in a post-build script) invalidates the signature "
            "of the whole app."
        ),
        how_to_fix="Make every Info.plist edit before signing, then re-sign the bundle.",
        fix_command=BUNDLE_SIGN_COMMAND,
        notary_messages=(INVALID,),
    )
)
def info_plist_modified(ctx: RuleContext) -> Iterator[Finding]:
    yield from _slot_findings(ctx, (1,), unbound=False, describe={
        SlotStatus.DIFFERS: "{source} does not match the hash in the signature: it was edited "
                            "after signing",
        SlotStatus.MISSING: "the signature binds an Info.plist but none is there",
    })


@rule(
    RuleMeta(
        id="BL213",
        slug="requirements-modified",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            source(
                "Security",
                "StaticCode.cpp",
                "errorForSlot / SecStaticCode::validateComponent",
                "a special slot mismatch is errSecCSSignatureFailed",
            ),
        ),
        summary="The requirements blob does not match its signed hash",
        what="Compares special slot 2 with the hash of the embedded Requirements blob.",
        why=(
            "The designated requirement is part of what the CMS signature covers through the "
            "CodeDirectory. A mismatch means the signature's blobs were edited or mixed from "
            "two signatures."
        ),
        how_to_fix="Sign the code again with codesign.",
        notary_messages=(INVALID,),
    )
)
def requirements_modified(ctx: RuleContext) -> Iterator[Finding]:
    yield from _slot_findings(ctx, (2,), unbound=True, describe={
        SlotStatus.DIFFERS: "the embedded requirements blob does not match the signed hash",
        SlotStatus.MISSING: "the signature hashes a requirements blob that is not there",
        SlotStatus.UNBOUND: "a requirements blob is embedded but the CodeDirectory does not "
                            "hash it",
    })


@rule(
    RuleMeta(
        id="BL214",
        slug="code-resources-modified",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            E.MODIFIED_AFTER_SIGNING,
            source(
                "Security",
                "StaticCode.cpp",
                "errorForSlot / SecStaticCode::validateComponent",
                "a special slot 3 mismatch is errSecCSResourceDirectoryFailed",
            ),
        ),
        summary="The resource seal (_CodeSignature/CodeResources) changed after signing",
        what=(
            "For a bundle's main executable, compares special slot 3 with the hash of the "
            "bundle's _CodeSignature/CodeResources; also reports a CodeResources the executable "
            "does not bind, and a bound one that is missing."
        ),
        why=(
            "The resource seal is only trusted because the main executable's signature hashes "
            "it. A changed, replaced or missing seal makes codesign report 'code has no "
            "resources but signature indicates they must be present' or a resource failure, "
            "and the notary rejects the app."
        ),
        how_to_fix="Re-sign the bundle so the seal and the executable are written together.",
        fix_command=BUNDLE_SIGN_COMMAND,
        notary_messages=(INVALID,),
    )
)
def code_resources_modified(ctx: RuleContext) -> Iterator[Finding]:
    yield from _slot_findings(ctx, (3,), unbound=True, describe={
        SlotStatus.DIFFERS: "{source} does not match the hash in the signature: the seal was "
                            "rewritten after the executable was signed",
        SlotStatus.MISSING: "the signature binds _CodeSignature/CodeResources but the file is "
                            "missing",
        SlotStatus.UNBOUND: "{source} exists but the executable's signature does not bind it: "
                            "the seal was written after the executable was signed",
    })


@rule(
    RuleMeta(
        id="BL215",
        slug="entitlements-modified",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            source(
                "Security",
                "StaticCode.cpp",
                "errorForSlot / SecStaticCode::validateComponent",
                "an entitlements slot mismatch is errSecCSSignatureFailed",
            ),
        ),
        summary="The entitlements blob does not match its signed hash",
        what=(
            "Compares special slots 5 (XML entitlements) and 7 (DER entitlements) with the "
            "hashes of the embedded entitlements blobs."
        ),
        why=(
            "Entitlements are trusted only through the CodeDirectory's hashes; a blob that does "
            "not match (edited, or spliced in from another signature) is refused by the kernel "
            "and the notary."
        ),
        how_to_fix=(
            "Re-sign with the entitlements file: codesign --entitlements app.entitlements ..."
        ),
        notary_messages=(INVALID,),
    )
)
def entitlements_modified(ctx: RuleContext) -> Iterator[Finding]:
    yield from _slot_findings(ctx, (5, 7), unbound=True, describe={
        SlotStatus.DIFFERS: "the embedded {name} blob does not match the signed hash",
        SlotStatus.MISSING: "the signature hashes {name} that are not embedded",
        SlotStatus.UNBOUND: "{name} are embedded but the CodeDirectory does not hash them",
    })


@rule(
    RuleMeta(
        id="BL216",
        slug="sha1-only-signature",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            source(
                "Security",
                "codedirectory.cpp",
                "CodeDirectory::bestHashOf",
                "Apple's verifier picks the strongest hash type present and still accepts "
                "SHA-1; we found no public notary log that rejects a SHA-1-only signature",
            ),
        ),
        summary="A signature has only SHA-1 CodeDirectories",
        what=(
            "Reports signed slices none of whose CodeDirectories (primary or alternate) uses "
            "SHA-256."
        ),
        why=(
            "codesign adds a SHA-256 CodeDirectory automatically (beside a SHA-1 primary when "
            "the deployment target is older than 10.11.4); a SHA-1-only signature comes from a "
            "very old codesign or another tool. Apple's verifier still accepts SHA-1 "
            "(CodeDirectory::bestHashOf picks the strongest hash present) and we found no public "
            "notary log that rejects it, so this is a warning: SHA-1 is broken and newer OS "
            "releases may stop accepting it."
        ),
        how_to_fix="Re-sign with a current codesign (Xcode 7.3 or later).",
        notary_messages=("The signature algorithm used is too weak.",),
    )
)
def sha1_only(ctx: RuleContext) -> Iterator[Finding]:
    for entry, macho in ctx.bundle.machos():
        for sl in macho.slices:
            sig = sl.signature
            if sig is None or not sig.code_directories:
                continue
            types = {cd.hash_type for cd in sig.code_directories}
            if types & {2, 3, 4, 5}:
                continue
            yield ctx.finding(
                path=entry.display,
                arch=sl.arch,
                message=f"{sl.arch} slice is signed with SHA-1 only "
                f"({len(sig.code_directories)} CodeDirectory, no SHA-256)",
                command=codesign_command(ctx.bundle, entry),
                evidence={"hash_types": ",".join(str(t) for t in sorted(types))},
            )
