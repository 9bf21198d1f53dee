"""BL0xx: the input itself and files that cannot be parsed."""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.bundle import EntryKind
from bundlelint.errors import FileSkipped, ParseError
from bundlelint.findings import Applicability, Finding
from bundlelint.rules import _evidence as E
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, rule, source


@rule(
    RuleMeta(
        id="BL001",
        slug="parse-error",
        consequence=Consequence.NOT_CHECKED,
        evidence=(
            E.NOT_CHECKED,
        ),
        summary="A Mach-O file or its code signature is malformed and cannot be parsed",
        what=(
            "Every Mach-O file in the input is parsed: fat header, each slice's header and load "
            "commands, and the code signature's SuperBlob and CodeDirectories. A count or offset "
            "that points outside the file, a truncated structure, or an unknown magic is reported "
            "with the byte offset where parsing stopped."
        ),
        why=(
            "The kernel, codesign and Apple's notary service refuse malformed files; a truncated "
            "binary usually means a broken copy, a failed download, or a tool that rewrote the "
            "file and left it inconsistent."
        ),
        how_to_fix=(
            "Rebuild the file from source, or copy it again from the build output; then re-sign "
            "it. If a post-processing tool (strip, install_name_tool, upx) ran after the link, "
            "run it before signing, not after."
        ),
        fix_applicability=Applicability.DISPLAY,
    )
)
def parse_error(ctx: RuleContext) -> Iterator[Finding]:
    for entry, result in ctx.bundle.macho_results():
        if isinstance(result, FileSkipped):
            continue  # not read at all: BL008 says so
        if isinstance(result, ParseError):
            yield ctx.finding(
                path=entry.display,
                offset=result.offset,
                message=f"invalid {result.format}: {result.reason}",
                evidence={"format": result.format},
            )
            continue
        for sl in result.slices:
            err = sl.signature_error
            if err is not None:
                yield ctx.finding(
                    path=entry.display,
                    arch=sl.arch,
                    offset=err.offset,
                    message=f"invalid {err.format}: {err.reason}",
                    evidence={"format": err.format},
                )


@rule(
    RuleMeta(
        id="BL002",
        slug="unsupported-input",
        consequence=Consequence.NOT_CHECKED,
        evidence=(
            E.NOT_CHECKED,
        ),
        summary="The input file is not a Mach-O file (or is empty)",
        what=(
            "A single file given on the command line must be a Mach-O executable, library or "
            "bundle (thin or universal). Anything else, including an empty file, is reported."
        ),
        why=(
            "bundlelint can only check what it can parse; a file that is not Mach-O is usually the "
            "wrong path, a text wrapper script, or an archive that still needs unpacking."
        ),
        how_to_fix=(
            "Point bundlelint at the .app bundle or the Mach-O binary itself, not a script, "
            "symlink farm or archive."
        ),
        fix_applicability=Applicability.DISPLAY,
    )
)
def unsupported_input(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    if not bundle.is_single_file:
        return
    entry = bundle.entries[0]
    if entry.kind is EntryKind.MACHO:
        return
    if entry.size == 0:
        message = "the file is empty (0 bytes): not a Mach-O file"
    else:
        message = f"not a Mach-O file (content looks like {entry.kind.value})"
    yield ctx.finding(path=entry.display, offset=0, message=message,
                      evidence={"size": entry.size})


@rule(
    RuleMeta(
        id="BL003",
        slug="internal-error",
        consequence=Consequence.NOT_CHECKED,
        evidence=(
            E.NOT_CHECKED,
        ),
        summary="A bundlelint rule crashed (a bug in bundlelint, not in your app)",
        what=(
            "Reported by the engine when a rule raises an unexpected exception. The other rules "
            "still run; the exit status is 3."
        ),
        why="A crashed rule checked nothing, so its problems may be missing from the report.",
        how_to_fix=(
            "Please report it with the message shown. Meanwhile `--ignore` the named rule to "
            "get an exit status that reflects the remaining rules."
        ),
        fix_applicability=Applicability.DISPLAY,
    )
)
def internal_error(ctx: RuleContext) -> Iterator[Finding]:
    """Emitted only by the engine; this check itself finds nothing."""
    return iter(())


@rule(
    RuleMeta(
        id="BL004",
        slug="symlink-escapes-bundle",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            source(
                "Security",
                "StaticCode.cpp",
                "SecStaticCode::validateSymlinkResource",
                "a symlink whose target leaves the bundle (other than into /System/ or "
                "/Library/) is errSecCSInvalidSymlink, 'invalid destination for symbolic link "
                "in bundle', under strict validation",
            ),
            E.MODIFIED_AFTER_SIGNING,
        ),
        summary="A symlink points outside the bundle",
        what=(
            "Resolves every symlink in the input lexically (never following it on disk) and "
            "reports targets that climb above the bundle root, and absolute targets except "
            "those into /System/ and /Library/, which strict validation allows."
        ),
        why=(
            "codesign refuses to seal a bundle whose symlinks leave it (\"invalid destination "
            "for symbolic link in bundle\"), and such a link makes the app depend on the build "
            "machine's file system."
        ),
        how_to_fix=(
            "Make the link relative and inside the bundle (framework links such as "
            "Versions/Current -> A), or copy the file in instead of linking to it."
        ),
        fix_applicability=Applicability.DISPLAY,
    )
)
def symlink_escapes_bundle(ctx: RuleContext) -> Iterator[Finding]:
    from bundlelint.analysis.symlinks import allowed_absolute_target, symlink_resolutions

    bundle = ctx.bundle
    for res in symlink_resolutions(bundle):
        if bundle.in_no_bundle(res.entry.relpath):
            continue  # beside the apps of a disk image (its /Applications link): in no bundle
        if res.escapes is not None and not allowed_absolute_target(res.escapes):
            yield ctx.finding(
                path=res.entry.display,
                message=f"symlink points outside the bundle: -> {res.escapes}",
                evidence={"target": res.escapes},
            )


@rule(
    RuleMeta(
        id="BL005",
        slug="symlink-loop",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            source(
                "Security",
                "StaticCode.cpp",
                "SecStaticCode::validateSymlinkResource",
                "the link target is resolved with realpath(); a target that does not resolve "
                "inside the bundle is errSecCSInvalidSymlink under strict validation",
            ),
            E.MODIFIED_AFTER_SIGNING,
        ),
        summary="A symlink is part of a loop",
        what="Reports symlinks whose chain of targets comes back to itself (or exceeds 40 hops).",
        why="The kernel gives up with ELOOP; codesign and the notary fail on the bundle.",
        how_to_fix="Point the link at a real file or directory, or remove it.",
        fix_applicability=Applicability.DISPLAY,
    )
)
def symlink_loop(ctx: RuleContext) -> Iterator[Finding]:
    from bundlelint.analysis.symlinks import symlink_resolutions

    for res in symlink_resolutions(ctx.bundle):
        if res.loop:
            yield ctx.finding(
                path=res.entry.display,
                message=f"symlink loop: -> {res.entry.symlink_target} never reaches a file",
            )


@rule(
    RuleMeta(
        id="BL006",
        slug="special-file",
        consequence=Consequence.CODESIGN_REFUSES,
        evidence=(
            source(
                "Security",
                "resources.cpp",
                "ResourceBuilder::scan",
                "an entry that is not a file, directory or symlink is "
                "errSecCSResourceNotSupported, 'unsupported resource found (something not a "
                "directory, file or symlink)', when signing or verifying strictly",
            ),
        ),
        summary="The bundle contains a FIFO, socket or device file",
        what=(
            "Reports entries that are neither regular files, directories nor symlinks. They are "
            "skipped, never opened (opening a FIFO would block)."
        ),
        why="codesign cannot seal special files and refuses to sign the bundle.",
        how_to_fix="Remove the file from the bundle; create it at run time if the app needs it.",
        fix_command="rm {target}",
        fix_applicability=Applicability.UNSAFE,
    )
)
def special_file(ctx: RuleContext) -> Iterator[Finding]:
    import stat

    for entry in ctx.bundle.entries_of(EntryKind.SPECIAL):
        mode = entry.mode
        kind = ("FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode)
                else "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special file")
        yield ctx.finding(path=entry.display, message=f"{kind} in the bundle (skipped, not read)",
                          target=ctx.bundle.shell_path(entry.relpath))


@rule(
    RuleMeta(
        id="BL007",
        slug="unreadable-entry",
        consequence=Consequence.NOT_CHECKED,
        evidence=(
            E.NOT_CHECKED,
            source(
                "Security",
                "CSCommon.h",
                "errSecCSSignatureNotVerifiable",
                "Apple's verifier fails the same way: 'the code cannot be read by the verifier "
                "(file system permissions etc.)'",
            ),
        ),
        summary="A file or directory in the bundle cannot be read",
        what=(
            "Reports entries that could not be read (permission denied, I/O error) or that are "
            "nested too deep to walk; nothing inside them was checked."
        ),
        why=(
            "codesign must read every file to seal it, and bundlelint cannot vouch for what it "
            "could not read."
        ),
        how_to_fix="Fix the permissions (files readable, directories readable and searchable).",
        fix_command="chmod -R u+rX {target}",
        fix_applicability=Applicability.SAFE,
    )
)
def unreadable_entry(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.bundle.entries_of(EntryKind.UNREADABLE):
        yield ctx.finding(path=entry.display, message=f"cannot be read: {entry.error}",
                          target=ctx.bundle.shell_path(entry.relpath))


@rule(
    RuleMeta(
        id="BL008",
        slug="file-skipped",
        consequence=Consequence.NOT_CHECKED,
        evidence=(E.NOT_CHECKED,),
        summary="A file is larger than --max-file-size and was not checked",
        what=(
            "With `--max-file-size`, no file larger than the limit is read for any purpose: not "
            "parsed, its code pages not hashed, not compared with the resource seal, not hashed "
            "for a special slot. Each such file is reported, whatever `--select` and `--ignore` "
            "say, because without it the report would pass a file nobody looked at."
        ),
        why=(
            "The report is incomplete: a malformed binary, a bad signature or a resource "
            "modified after signing in this file would not be found, yet codesign and the "
            "notary read every file. Like an unreadable file (BL007), it fails the check."
        ),
        how_to_fix=(
            "Raise `--max-file-size` above this file's size (or leave it unset) to check the "
            "file; keep the limit in CI to bound the time a hostile upload can take."
        ),
        fix_applicability=Applicability.DISPLAY,
    )
)
def file_skipped(ctx: RuleContext) -> Iterator[Finding]:
    limit = ctx.bundle.max_file_size
    for entry in ctx.bundle.skipped_entries():
        yield ctx.finding(
            path=entry.display,
            message=f"{entry.size} bytes is over the --max-file-size limit of {limit} bytes: "
                    "not read, so nothing in it was checked",
            evidence={"size": entry.size, "limit": limit},
        )
