"""BL2xx: presence and kind of code signatures, hardened runtime, universal consistency."""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.analysis.golang import slice_go_info
from bundlelint.findings import Applicability, Finding
from bundlelint.parsers.macho import MH_BUNDLE, MH_DYLIB, MH_EXECUTE, MachOFile
from bundlelint.rules import _evidence as E
from bundlelint.rules._commands import codesign_command
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, doc, notary, rule, source

SIGNABLE_FILETYPES = (MH_EXECUTE, MH_DYLIB, MH_BUNDLE)
SIGN_FIX = (
    "Sign every piece of code inside-out with your Developer ID Application certificate, the "
    "hardened runtime and a secure timestamp: nested dylibs and frameworks first, then helpers, "
    "then the app. Never use `--deep`: it re-signs the main executable without its "
    "entitlements."
)

#: BL202's fix for Go binaries: ``go build`` cannot sign with a Developer ID.
GO_SIGN_FIX = (
    "Go's linker signs darwin/arm64 output ad hoc (identifier a.out) only so that it can run "
    "on the build machine; that is not a Developer ID signature. After `go build`, sign the "
    "final binary (or the .app around it, inside-out) with codesign, your Developer ID "
    "Application certificate, `--options runtime` and `--timestamp`; lipo slices together "
    "before signing, and never sign before a step that rewrites the file."
)


@rule(
    RuleMeta(
        id="BL201",
        slug="unsigned-code",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.NOT_SIGNED,
            source(
                "Security",
                "StaticCode.cpp",
                "SecStaticCode::codeDirectories",
                "code without a signature is errSecCSUnsigned, 'code object is not signed at all'",
            ),
        ),
        summary="A Mach-O slice has no code signature",
        what=(
            "Every slice of every Mach-O file in the input (executables, dylibs, .node/.so "
            "bundles, anywhere in the bundle) must carry LC_CODE_SIGNATURE."
        ),
        why=(
            "The notary rejects any unsigned code in the upload, and on Apple silicon the "
            "kernel refuses to run unsigned arm64 code at all. Go's linker leaves darwin/amd64 "
            "output unsigned."
        ),
        how_to_fix=SIGN_FIX,
        fix_command=None,
        notary_messages=("The binary is not signed.",),
    )
)
def unsigned_code(ctx: RuleContext) -> Iterator[Finding]:
    for entry, macho in ctx.bundle.machos():
        for sl in macho.slices:
            if sl.filetype in SIGNABLE_FILETYPES and sl.code_signature is None:
                yield ctx.finding(
                    path=entry.display,
                    arch=sl.arch,
                    message=f"{sl.arch} slice ({sl.filetype_name}) is not signed",
                    command=codesign_command(ctx.bundle, entry),
                )


@rule(
    RuleMeta(
        id="BL202",
        slug="adhoc-signature",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.NOT_DEVELOPER_ID,
            E.DEVELOPER_ID_ONLY,
        ),
        summary="Code is signed ad hoc or only by the linker, not with a Developer ID",
        what=(
            "Reports slices whose primary CodeDirectory has the adhoc (0x2) or linker-signed "
            "(0x20000) flag, or that carry no CMS signature at all."
        ),
        why=(
            "Notarization needs a Developer ID Application signature. Linkers sign arm64 output "
            "ad hoc (flags 0x20002) only so that it can run locally: Apple's ld64 names the "
            "identifier after the output file (or the dylib's install name), Go's internal "
            "linker always writes `a.out`. That signature is not a Developer ID signature and "
            "must be replaced."
        ),
        how_to_fix=SIGN_FIX,
        notary_messages=(
            "The binary is not signed with a valid Developer ID certificate.",
        ),
    )
)
def adhoc_signature(ctx: RuleContext) -> Iterator[Finding]:
    for entry, macho in ctx.bundle.machos():
        for sl in macho.slices:
            sig = sl.signature
            if sig is None or sl.filetype not in SIGNABLE_FILETYPES:
                continue
            cd = sig.primary
            if cd is None:
                continue
            kind = sig.kind
            if kind == "certificate":
                continue
            flags = f"{cd.flags:#x}"
            if kind == "linker-signed":
                message = (
                    f"{sl.arch} slice carries only the linker's ad-hoc signature (flags {flags}, "
                    f"identifier {cd.identifier!r}); linkers write it for arm64 so the file "
                    "runs locally, it is not a Developer ID signature"
                )
            else:
                message = (
                    f"{sl.arch} slice is signed ad hoc (flags {flags}, identifier "
                    f"{cd.identifier!r}) with no certificate"
                )
            go = slice_go_info(ctx.bundle, entry, sl)
            fix_text = None
            if go is not None:
                built_by = f" built by {go.go_version}" if go.go_version else ""
                message += f" (Go binary{built_by})"
                fix_text = GO_SIGN_FIX
            yield ctx.finding(
                path=entry.display,
                arch=sl.arch,
                message=message,
                fix_text=fix_text,
                command=codesign_command(ctx.bundle, entry),
                evidence={"flags": flags, "identifier": cd.identifier, "kind": kind},
            )


@rule(
    RuleMeta(
        id="BL203",
        slug="hardened-runtime-missing",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.NO_HARDENED_RUNTIME,
            doc(
                E.HARDENED_RUNTIME,
                "the notary service requires the hardened runtime for executables",
            ),
        ),
        summary="An executable is signed without the hardened runtime",
        what=(
            "Every signed MH_EXECUTE slice must have the runtime flag (0x10000) in its "
            "CodeDirectory, which `codesign --options runtime` sets."
        ),
        why=(
            "The notary rejects executables without the hardened runtime. An app that draws with "
            "Metal, OpenGL or WebKit needs no extra entitlement under it."
        ),
        how_to_fix=(
            "Re-sign with `--options runtime`. Add entitlements only for what the app really "
            "does; a Metal renderer needs none of the JIT or unsigned-memory ones."
        ),
        notary_messages=("The executable does not have the hardened runtime enabled.",),
    )
)
def hardened_runtime_missing(ctx: RuleContext) -> Iterator[Finding]:
    for entry, macho in ctx.bundle.machos():
        for sl in macho.slices:
            cd = sl.signature.primary if sl.signature else None
            if sl.filetype != MH_EXECUTE or cd is None or cd.has_hardened_runtime:
                continue
            yield ctx.finding(
                path=entry.display,
                arch=sl.arch,
                message=f"{sl.arch} executable is signed without the hardened runtime "
                f"(flags {cd.flags:#x} lack 0x10000)",
                command=codesign_command(ctx.bundle, entry),
                evidence={"flags": f"{cd.flags:#x}"},
            )


def _slice_states(macho: MachOFile) -> list[tuple[str, str, str | None, str | None]]:
    """(arch, kind, identifier, team) per slice; kind is unsigned/unreadable or the
    signature kind."""
    states: list[tuple[str, str, str | None, str | None]] = []
    for sl in macho.slices:
        cd = sl.signature.primary if sl.signature else None
        if sl.code_signature is None:
            states.append((sl.arch, "unsigned", None, None))
        elif sl.signature is None or cd is None:
            states.append((sl.arch, "unreadable", None, None))
        else:
            states.append((sl.arch, sl.signature.kind, cd.identifier, cd.team_id))
    return states


def _describe(states: list[tuple[str, str, str | None, str | None]]) -> str:
    return "; ".join(
        f"{arch}: {kind}"
        + (f", identifier {ident!r}" if ident is not None else "")
        + (f", team {team}" if team else "")
        for arch, kind, ident, team in states
    )


@rule(
    RuleMeta(
        id="BL204",
        slug="universal-signing-inconsistent",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.NOT_SIGNED,
            notary(
                "The binary is not signed with a valid Developer ID certificate.",
                "https://github.com/hisgarden/QuickRecorder/blob/"
                "b9e08755d4b68fe4c402ff88be0124bc6df52b18/developer_log.json (the notary reports "
                "each architecture of a universal file on its own)",
            ),
        ),
        summary="The slices of a universal file are not all signed the same way",
        what=(
            "In a universal (fat) file, compares the slices: one signed and another not, one "
            "with a certificate and another ad hoc, or different Team IDs."
        ),
        why=(
            "The notary checks every slice and rejects the file if any slice is unsigned or not "
            "signed with the Developer ID. This happens when slices are signed separately and "
            "merged with lipo afterwards: for Go, the arm64 slice carries the linker's "
            "signature and the amd64 slice none."
        ),
        how_to_fix=(
            "Merge the slices with lipo first, then sign the universal file (or the bundle) once "
            "with your Developer ID."
        ),
    )
)
def universal_signing_inconsistent(ctx: RuleContext) -> Iterator[Finding]:
    for entry, macho in ctx.bundle.machos():
        if not macho.is_fat or len(macho.slices) < 2:
            continue
        states = _slice_states(macho)
        kinds = {kind for _, kind, _, _ in states}
        teams = {team for _, kind, _, team in states if kind == "certificate"}
        if len(kinds) <= 1 and len(teams) <= 1:
            continue
        unsigned = [arch for arch, kind, _, _ in states if kind == "unsigned"]
        if unsigned:
            lead = (f"{', '.join(unsigned)} slice{'s are' if len(unsigned) > 1 else ' is'} "
                    "unsigned while other slices are signed")
        elif len(kinds) > 1:
            lead = "slices are signed in different ways"
        else:
            lead = "slices are signed by different teams"
        yield ctx.finding(
            path=entry.display,
            arch=unsigned[0] if len(unsigned) == 1 else None,
            message=f"{lead} ({_describe(states)})",
            command=codesign_command(ctx.bundle, entry),
            evidence={arch: kind for arch, kind, _, _ in states},
        )


@rule(
    RuleMeta(
        id="BL205",
        slug="universal-identifier-mismatch",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            doc(
                "https://developer.apple.com/documentation/technotes/tn3127-inside-code-signing-requirements",
                "a designated requirement names the signing identifier, so a slice with another "
                "identifier does not satisfy it",
            ),
        ),
        summary="The slices of a universal file carry different signing identifiers",
        what=(
            "In a universal file whose slices are all signed the same way, compares the "
            "CodeDirectory identifiers of the slices."
        ),
        why=(
            "codesign gives every slice the same identifier when it signs a universal file; "
            "different ones mean the slices were signed apart and merged later. The notary "
            "accepts it (a Developer ID-signed sentry-cli release has it), but a designated "
            "requirement that names one identifier matches only one slice, which can break "
            "keychain access and TCC grants when macOS switches architecture."
        ),
        how_to_fix="Merge the slices first, then sign the universal file once with one identifier.",
        fix_applicability=Applicability.UNSAFE,
    )
)
def universal_identifier_mismatch(ctx: RuleContext) -> Iterator[Finding]:
    for entry, macho in ctx.bundle.machos():
        if not macho.is_fat or len(macho.slices) < 2:
            continue
        states = _slice_states(macho)
        if len({kind for _, kind, _, _ in states}) != 1:
            continue  # BL204's business
        idents = {ident for _, _, ident, _ in states if ident is not None}
        if len(idents) > 1:
            yield ctx.finding(
                path=entry.display,
                message=f"slices are signed with different identifiers ({_describe(states)})",
                command=codesign_command(ctx.bundle, entry),
                evidence={arch: ident or "" for arch, _, ident, _ in states},
            )
