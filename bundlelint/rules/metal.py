"""BL5xx: Metal libraries (``.metallib``), from ``bundlelint.analysis.metal``.

The magic, the declared file size and the section bounds are certain (docs/formats.md 6); the
platform and target-OS fields are reverse-engineered (UNCONFIRMED), so BL502 and BL503 say
what they read and how sure that is. A Metal library where codesign expects code is a
structure finding (BL016, once BL504).
"""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.analysis.metal import metal_libraries
from bundlelint.analysis.seal import IssueKind, verify_seal
from bundlelint.bundle import Bundle, Entry
from bundlelint.errors import ParseError
from bundlelint.findings import Applicability, Finding
from bundlelint.parsers.macho import Version
from bundlelint.parsers.metallib import MetalLibrary
from bundlelint.rules import _evidence as E
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, doc, rule

UNCONFIRMED = (
    " The meaning of this header field comes from reverse engineering (YuAo's "
    "MetalLibraryArchive, dxmt) and is not documented by Apple."
)


def _libraries(bundle: Bundle) -> Iterator[tuple[Entry, MetalLibrary]]:
    for entry, lib in metal_libraries(bundle):
        if isinstance(lib, MetalLibrary):
            yield entry, lib


def _minimum_system_version(bundle: Bundle, entry: Entry) -> tuple[str, Version] | None:
    """LSMinimumSystemVersion of the innermost app-like bundle around ``entry``."""
    best = bundle.innermost_app(entry.relpath)
    if best is None:
        return None
    info = bundle.valid_info_plist(best)
    text = info.minimum_system_version if info else None
    version = Version.parse(text) if text else None
    return (text, version) if text and version else None


@rule(
    RuleMeta(
        id="BL501",
        slug="metallib-invalid",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            doc(
                "https://developer.apple.com/documentation/metal/mtldevice/makelibrary(url:)",
                "a library Metal cannot load is an error returned at run time when the app "
                "creates it, not a launch or signing failure",
            ),
        ),
        summary="A Metal library is truncated or its header is inconsistent",
        what=(
            "Reads the 88-byte header of every file with the MTLB magic: the declared file "
            "size must equal the file's size and every section (function list, public and "
            "private metadata, bitcode) must lie inside the file."
        ),
        why=(
            "Metal.framework compares the declared size with the real one and rejects the "
            "library with 'Invalid library file'; the app then fails when it creates its "
            "pipelines. A truncated copy (an interrupted download or a bad merge) looks fine "
            "to every other tool."
        ),
        how_to_fix=(
            "Rebuild the library with `xcrun metallib` (or copy it again from the build "
            "output) and re-sign the bundle."
        ),
        fix_command="xcrun -sdk macosx metallib -o {target} shaders.air",
        fix_applicability=Applicability.DISPLAY,
    )
)
def metallib_invalid(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for entry, lib in metal_libraries(bundle):
        target = bundle.shell_path(entry.relpath)
        if isinstance(lib, ParseError):
            yield ctx.finding(path=entry.display, offset=lib.offset, message=lib.reason,
                              target=target)
            continue
        for offset, reason in lib.problems:
            yield ctx.finding(
                path=entry.display,
                offset=offset,
                message=reason,
                evidence={"declared_size": lib.declared_size, "file_size": lib.file_size},
                target=target,
            )


@rule(
    RuleMeta(
        id="BL502",
        slug="metallib-wrong-platform",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            doc(
                "https://developer.apple.com/documentation/metal/mtldevice/makelibrary(url:)",
                "Metal reports a library it cannot load as an error at run time, when the app "
                "creates it",
            ),
        ),
        summary="A Metal library inside a Mac app was built for another platform",
        what=(
            "Reports metallib files whose platform field lacks the macOS bit (0x8000; iOS, "
            "tvOS and watchOS libraries use 0x0001) or whose target-OS byte names iOS, tvOS, "
            "watchOS or a simulator." + UNCONFIRMED
        ),
        why=(
            "Metal on macOS refuses such a library ('This library format is not supported on "
            "this platform'); it usually means the iOS build's shaders were copied into the "
            "Mac app."
        ),
        how_to_fix="Compile the shaders with the macOS SDK (`xcrun -sdk macosx metal ...`).",
        fix_command="xcrun -sdk macosx metal -c shaders.metal -o shaders.air && "
        "xcrun -sdk macosx metallib shaders.air -o {target}",
        fix_applicability=Applicability.DISPLAY,
    )
)
def metallib_wrong_platform(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for entry, lib in _libraries(bundle):
        if lib.is_macos_platform and lib.targets_macos is not False:
            continue
        yield ctx.finding(
            path=entry.display,
            offset=4 if not lib.is_macos_platform else 11,
            message=f"built for {lib.target_os_name} (platform field {lib.platform:#06x}, "
            f"target OS byte {lib.target_os:#04x}), not macOS",
            evidence={"platform": f"{lib.platform:#06x}", "target_os": lib.target_os_name},
            target=bundle.shell_path(entry.relpath),
        )


@rule(
    RuleMeta(
        id="BL503",
        slug="metallib-target-too-new",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            doc(
                "https://developer.apple.com/documentation/metal/mtldevice/makelibrary(url:)",
                "Metal reports a library it cannot load as an error at run time, when the app "
                "creates it",
            ),
        ),
        summary="A Metal library targets a newer macOS than LSMinimumSystemVersion",
        what=(
            "Compares the target OS version in a macOS metallib's header with the "
            "LSMinimumSystemVersion of the app that contains it." + UNCONFIRMED
        ),
        why=(
            "A library compiled for a newer macOS (`-mmacosx-version-min`, or the default of "
            "a new Xcode) may use a Metal language version the older OS cannot load: the app "
            "launches there and fails when it builds its pipelines."
        ),
        how_to_fix=(
            "Compile the shaders for the app's minimum (`-mmacosx-version-min=` with the "
            "LSMinimumSystemVersion value, and a matching `-std=metal...`), or raise "
            "LSMinimumSystemVersion."
        ),
        fix_command="xcrun -sdk macosx metal -mmacosx-version-min={minimum} -c shaders.metal "
        "-o shaders.air && xcrun -sdk macosx metallib shaders.air -o {target}",
        fix_applicability=Applicability.DISPLAY,
    )
)
def metallib_target_too_new(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for entry, lib in _libraries(bundle):
        if lib.targets_macos is not True:
            continue
        declared = _minimum_system_version(bundle, entry)
        if declared is None:
            continue
        text, minimum = declared
        target = Version(*lib.target_os_version)
        if target <= minimum:
            continue
        yield ctx.finding(
            path=entry.display,
            offset=12,
            message=f"targets macOS {target} but the app declares LSMinimumSystemVersion "
            f"{text}",
            evidence={"target_os_version": target, "LSMinimumSystemVersion": text},
            minimum=text,
            target=bundle.shell_path(entry.relpath),
        )


@rule(
    RuleMeta(
        id="BL505",
        slug="metallib-unsealed",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.SIGNATURE_INVALID,
            E.MODIFIED_AFTER_SIGNING,
        ),
        summary="A Metal library is not covered by the bundle's resource seal",
        what=(
            "Verifies the resource seal (_CodeSignature/CodeResources) of the bundle around "
            "each metallib and reports a library that was added or changed after signing."
        ),
        why=(
            "Build scripts often compile shaders after the signing step. The seal then no "
            "longer matches the bundle: Gatekeeper reports the app as damaged and the notary "
            "rejects it."
        ),
        how_to_fix=(
            "Compile and copy the Metal library before signing, then re-sign the bundle."
        ),
        fix_command="codesign --force --options runtime --timestamp --sign "
        '"Developer ID Application: YOUR NAME (TEAMID)" {bundle}',
        fix_applicability=Applicability.UNSAFE,
    )
)
def metallib_unsealed(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for entry, _lib in metal_libraries(bundle):
        if bundle.is_single_file:
            continue
        owner = bundle.bundle_dir_of(entry.relpath)
        seal = verify_seal(bundle, owner)
        if not seal.present or seal.error is not None:
            continue  # no seal at all, or an unreadable one: the signature rules report it
        for issue in seal.issues:
            if issue.path != entry.display:
                continue
            if issue.kind is IssueKind.ADDED:
                what = "was added after signing: the seal does not cover it"
            elif issue.kind is IssueKind.MODIFIED:
                what = "changed after signing: its hash no longer matches the seal"
            else:
                continue
            yield ctx.finding(
                path=entry.display,
                message=f"Metal library {what} ({seal.code_resources})",
                evidence={"seal": seal.code_resources, "issue": issue.kind.value},
                bundle=bundle.shell_path(owner.relpath),
            )
