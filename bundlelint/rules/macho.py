"""BL1xx: Mach-O headers and load commands."""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.analysis.golang import slice_go_info
from bundlelint.findings import Applicability, Finding
from bundlelint.parsers.macho import MH_BUNDLE, MH_DYLIB, MH_EXECUTE, PLATFORM_MACOS, Version
from bundlelint.rules import _evidence as E
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, rule, source

MIN_NOTARY_SDK = Version(10, 9)
#: File types the notary checks (objects, dSYMs and the like are not loadable code).
LOADABLE_FILETYPES = (MH_EXECUTE, MH_DYLIB, MH_BUNDLE)


@rule(
    RuleMeta(
        id="BL101",
        slug="sdk-too-old",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.OLD_SDK,
            E.SDK_10_9,
        ),
        summary="A Mach-O slice was built against an SDK older than macOS 10.9",
        what=(
            "Reads the `sdk` field of LC_BUILD_VERSION (or LC_VERSION_MIN_MACOSX) of every slice "
            "and reports an SDK older than 10.9, including 0 (shown as n/a)."
        ),
        why=(
            "The notary service requires the 10.9 SDK or later because the hardened runtime "
            "depends on it. Old toolchains (Go's linker before the 10.9 fix wrote 10.7) and "
            "hand-made or patched binaries write older values or 0."
        ),
        how_to_fix=(
            "Relink against a current SDK: a current Xcode, or `-mmacosx-version-min` with a "
            "modern SDK; then sign the result again."
        ),
        fix_command="vtool -show-build {target}  # then relink against a current SDK",
        fix_applicability=Applicability.DISPLAY,
        notary_messages=("The binary uses an SDK older than the 10.9 SDK.",),
    )
)
def sdk_too_old(ctx: RuleContext) -> Iterator[Finding]:
    for entry, macho in ctx.bundle.machos():
        for sl in macho.slices:
            bv = sl.macos_build_version
            if sl.filetype not in LOADABLE_FILETYPES or bv is None:
                continue
            if bv.platform == PLATFORM_MACOS and bv.sdk < MIN_NOTARY_SDK:
                go = slice_go_info(ctx.bundle, entry, sl)
                target = ctx.bundle.shell_path(entry.relpath)
                yield ctx.finding(
                    path=entry.display,
                    arch=sl.arch,
                    message=f"built against SDK {bv.sdk} ({bv.command}); the notary requires "
                    "10.9 or later",
                    evidence={"command": bv.command, "sdk": bv.sdk, "minos": bv.minos},
                    fix_text=GO_SDK_FIX if go is not None else None,
                    command=GO_PLATFORM_COMMAND.format(target=target) if go is not None
                    else None,
                    target=target,
                )


#: BL101's fix for a Go slice: only a new Go release writes a newer SDK.
GO_SDK_FIX = (
    "This is a Go binary: Go's internal linker writes the SDK version itself. Rebuild with a "
    "current Go release (1.13 or later; 1.12 point releases from the 10.9 fix on), then sign "
    "the result again."
)

#: BL102's fix for a Go slice: Go's internal linker writes the platform command itself and
#: ignores MACOSX_DEPLOYMENT_TARGET (only cgo's external linker reads it).
GO_PLATFORM_FIX = (
    "Go's internal linker ignores MACOSX_DEPLOYMENT_TARGET and writes its own platform load "
    "command; a Go slice without one was built by a very old Go or rewritten afterwards. "
    "Rebuild with a current Go release (with cgo, the external linker takes "
    "-mmacosx-version-min from CGO_CFLAGS and CGO_LDFLAGS), then sign the result."
)
GO_PLATFORM_COMMAND = "go version -m {target}  # then rebuild with a current Go release"


@rule(
    RuleMeta(
        id="BL102",
        slug="missing-platform-version",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            source(
                "dyld",
                "common/TargetPolicy.cpp",
                "gHeaderAddImplicitPlatform",
                "dyld on macOS gives a binary with no platform load command an implicit macOS "
                "platform, so it loads; only the SDK and minimum OS it was built for are unknown",
            ),
            E.SDK_10_9,
        ),
        summary="A Mach-O slice has neither LC_BUILD_VERSION nor LC_VERSION_MIN_MACOSX",
        what=(
            "Every executable, dylib and bundle slice should carry a platform load command that "
            "states its minimum OS and SDK. This rule reports slices with none."
        ),
        why=(
            "dyld on macOS gives such a binary an implicit macOS platform and loads it, so it "
            "runs; but its SDK reads as n/a (the notary wants 10.9 or later, see BL101) and "
            "nobody can tell the minimum OS the code needs."
        ),
        how_to_fix=(
            "Link with a current linker and pass a deployment target (`-mmacosx-version-min=` "
            "or MACOSX_DEPLOYMENT_TARGET)."
        ),
        fix_command="cc -mmacosx-version-min=11.0 ...  # relink with a deployment target",
        fix_applicability=Applicability.DISPLAY,
    )
)
def missing_platform_version(ctx: RuleContext) -> Iterator[Finding]:
    for entry, macho in ctx.bundle.machos():
        for sl in macho.slices:
            if sl.filetype in LOADABLE_FILETYPES and not sl.build_versions:
                go = slice_go_info(ctx.bundle, entry, sl)
                yield ctx.finding(
                    path=entry.display,
                    arch=sl.arch,
                    message=f"{sl.filetype_name} slice has no LC_BUILD_VERSION or "
                    "LC_VERSION_MIN_MACOSX: its SDK reads as n/a",
                    fix_text=GO_PLATFORM_FIX if go is not None else None,
                    command=GO_PLATFORM_COMMAND.format(target=ctx.bundle.shell_path(entry.relpath))
                    if go is not None else None,
                )
