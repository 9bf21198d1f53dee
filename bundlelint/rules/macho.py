"""BL1xx: Mach-O headers and load commands."""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.findings import Applicability, Finding, Severity
from bundlelint.parsers.macho import MH_BUNDLE, MH_DYLIB, MH_EXECUTE, PLATFORM_MACOS, Version
from bundlelint.rules.base import RuleContext, RuleMeta, rule

MIN_NOTARY_SDK = Version(10, 9)
#: File types the notary checks (objects, dSYMs and the like are not loadable code).
LOADABLE_FILETYPES = (MH_EXECUTE, MH_DYLIB, MH_BUNDLE)


@rule(
    RuleMeta(
        id="BL101",
        slug="sdk-too-old",
        severity=Severity.ERROR,
        summary="A Mach-O slice was built against an SDK older than macOS 10.9",
        what=(
            "Reads the `sdk` field of LC_BUILD_VERSION (or LC_VERSION_MIN_MACOSX) of every slice "
            "and reports an SDK older than 10.9, including 0 (shown as n/a)."
        ),
        why=(
            "The notary service requires the 10.9 SDK or later because the hardened runtime "
            "depends on it. Go before 1.13 wrote sdk 10.7; some hand-made or patched binaries "
            "write 0."
        ),
        how_to_fix=(
            "Rebuild with a current toolchain: for Go, any release from 1.13 on; for C/C++, a "
            "current Xcode or `-mmacosx-version-min` with a modern SDK."
        ),
        fix_command="go version -m {target}  # then rebuild with a current Go release",
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
                yield ctx.finding(
                    path=entry.display,
                    arch=sl.arch,
                    message=f"built against SDK {bv.sdk} ({bv.command}); the notary requires "
                    "10.9 or later",
                    evidence={"command": bv.command, "sdk": bv.sdk, "minos": bv.minos},
                    target=ctx.bundle.shell_path(entry.relpath),
                )


@rule(
    RuleMeta(
        id="BL102",
        slug="missing-platform-version",
        severity=Severity.ERROR,
        summary="A Mach-O slice has neither LC_BUILD_VERSION nor LC_VERSION_MIN_MACOSX",
        what=(
            "Every executable, dylib and bundle slice should carry a platform load command that "
            "states its minimum OS and SDK. This rule reports slices with none."
        ),
        why=(
            "Without one the SDK version reads as n/a, which the notary rejects as older than "
            "10.9, and the loader cannot tell the minimum OS the code needs."
        ),
        how_to_fix=(
            "Link with a current linker and pass a deployment target (`-mmacosx-version-min=` "
            "or MACOSX_DEPLOYMENT_TARGET); for Go, rebuild with a current release."
        ),
        fix_command="MACOSX_DEPLOYMENT_TARGET=11.0 go build ...  # or relink with a current SDK",
        fix_applicability=Applicability.DISPLAY,
    )
)
def missing_platform_version(ctx: RuleContext) -> Iterator[Finding]:
    for entry, macho in ctx.bundle.machos():
        for sl in macho.slices:
            if sl.filetype in LOADABLE_FILETYPES and not sl.build_versions:
                yield ctx.finding(
                    path=entry.display,
                    arch=sl.arch,
                    message=f"{sl.filetype_name} slice has no LC_BUILD_VERSION or "
                    "LC_VERSION_MIN_MACOSX: its SDK reads as n/a",
                )
