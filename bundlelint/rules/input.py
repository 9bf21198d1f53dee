"""BL0xx: the input itself and files that cannot be parsed."""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.bundle import EntryKind
from bundlelint.errors import ParseError
from bundlelint.findings import Applicability, Finding, Severity
from bundlelint.rules.base import RuleContext, RuleMeta, rule


@rule(
    RuleMeta(
        id="BL001",
        slug="parse-error",
        severity=Severity.ERROR,
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
        severity=Severity.ERROR,
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
        severity=Severity.ERROR,
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
