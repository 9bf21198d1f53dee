"""BL6xx: Go and cgo. Facts come from ``bundlelint.analysis.golang`` (build info, runtime
version string, toolkit detection).

Old SDKs and BL101: Go up to 1.12 links macOS output with SDK 10.7, which the notary rejects.
When a Go slice's own SDK field shows that, BL101 reports it (its fix already names "Go 1.13 or
later"), and BL601 stays quiet, so one fact is reported once. BL601 speaks only where BL101
cannot see the problem: the toolchain is too old but this particular slice carries an
acceptable SDK (it was linked externally, through cgo), so the next pure-Go build will fail.
"""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.analysis.golang import UNNEEDED_ENTITLEMENTS, go_info
from bundlelint.findings import Applicability, Finding, Severity
from bundlelint.parsers.macho import MH_EXECUTE, PLATFORM_MACOS, Version
from bundlelint.rules._commands import codesign_command
from bundlelint.rules.base import RuleContext, RuleMeta, rule

#: The first Go release whose linker writes a 10.9 SDK (docs/formats.md 5.5).
FIRST_NOTARIZABLE_GO_MINOR = 13
MIN_NOTARY_SDK = Version(10, 9)


@rule(
    RuleMeta(
        id="BL601",
        slug="go-toolchain-too-old",
        severity=Severity.WARNING,
        summary="A Go binary was built by a Go release older than 1.13",
        what=(
            "Reads the Go version of every Go slice (from its build info, or from the runtime's "
            "version string when the build info was stripped) and reports releases before 1.13 "
            "whose slice nevertheless carries an SDK of 10.9 or later. When the SDK itself is "
            "too old, BL101 reports it instead."
        ),
        why=(
            "Go's internal linker wrote LC_VERSION_MIN_MACOSX with SDK 10.7 up to Go 1.12, and "
            "the notary rejects anything below the 10.9 SDK. A slice from such a toolchain that "
            "passes today was linked externally (cgo); the next pure-Go build will be rejected. "
            "These releases also get no security fixes."
        ),
        how_to_fix="Rebuild with a current Go release (1.13 or later; ideally a supported one).",
        fix_command="go version -m {target}  # then rebuild with a current Go release",
        fix_applicability=Applicability.DISPLAY,
        notary_messages=("The binary uses an SDK older than the 10.9 SDK.",),
    )
)
def go_toolchain_too_old(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for entry, macho in bundle.machos():
        for sl, info in zip(macho.slices, go_info(bundle, entry), strict=False):
            if info is None or not info.older_than(FIRST_NOTARIZABLE_GO_MINOR):
                continue
            bv = sl.macos_build_version
            if bv is None or bv.platform != PLATFORM_MACOS or bv.sdk < MIN_NOTARY_SDK:
                continue  # BL101 / BL102 report the SDK itself
            yield ctx.finding(
                path=entry.display,
                arch=sl.arch,
                message=f"built by {info.go_version} (from its {info.version_source}); Go "
                f"before 1.13 links macOS output with SDK 10.7, which the notary rejects (this "
                f"slice carries SDK {bv.sdk}, so it was linked externally)",
                evidence={"go_version": info.go_version or "", "sdk": bv.sdk},
                target=bundle.shell_path(entry.relpath),
            )


@rule(
    RuleMeta(
        id="BL602",
        slug="go-gui-without-cgo",
        severity=Severity.ERROR,
        summary="A Go GUI app whose toolkit needs cgo on macOS was built with CGO_ENABLED=0",
        what=(
            "For every Go executable slice whose build info lists Fyne, Gio or Wails, reads the "
            "CGO_ENABLED build setting and reports 0. Ebitengine is not reported: it reaches "
            "Cocoa and Metal through purego."
        ),
        why=(
            "These toolkits open windows through C and Objective-C code called via cgo (GLFW "
            "for Fyne, Cocoa for Gio, WKWebView for Wails). Built without cgo, usually by "
            "cross-compiling with CGO_ENABLED=0, the app signs and notarizes but cannot open "
            "a window."
        ),
        how_to_fix=(
            "Build on macOS (or cross-compile with a macOS-capable C toolchain such as "
            "`zig cc` or osxcross) with CGO_ENABLED=1, then sign the result."
        ),
        fix_command="CGO_ENABLED=1 GOOS=darwin GOARCH={goarch} go build -o {target} .",
        fix_applicability=Applicability.DISPLAY,
    )
)
def go_gui_without_cgo(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for entry, macho in bundle.machos():
        for sl, info in zip(macho.slices, go_info(bundle, entry), strict=False):
            if info is None or sl.filetype != MH_EXECUTE or info.cgo_enabled is not False:
                continue
            for tk in info.toolkits:
                if tk.facts.needs_cgo is not True:
                    continue
                yield ctx.finding(
                    path=entry.display,
                    arch=sl.arch,
                    message=f"depends on {tk.facts.module} {tk.version} ({tk.name}) but was "
                    f"built with CGO_ENABLED=0: {tk.facts.cgo_note}, so this app cannot open "
                    "a window",
                    evidence={"toolkit": tk.name, "module": tk.facts.module,
                              "version": tk.version, "CGO_ENABLED": "0"},
                    goarch={"x86_64": "amd64"}.get(sl.arch, sl.arch),
                    target=bundle.shell_path(entry.relpath),
                )


@rule(
    RuleMeta(
        id="BL603",
        slug="go-unneeded-entitlements",
        severity=Severity.WARNING,
        summary="A Go executable is signed with JIT or unsigned-memory entitlements it does not "
        "need",
        what=(
            "Reports Go executables signed with com.apple.security.cs.allow-jit, "
            "allow-unsigned-executable-memory or disable-executable-page-protection set to "
            "true, naming the GUI toolkit when one is found."
        ),
        why=(
            "Go generates no code at run time, and Metal rendering (Fyne, Gio, Ebitengine, "
            "Wails) needs no entitlement under the hardened runtime. These entitlements switch "
            "off protections the hardened runtime exists for, and reviewers ask about them."
        ),
        how_to_fix=(
            "Remove them from the entitlements file (an empty <dict/> is enough for a Metal "
            "app) and re-sign."
        ),
        fix_applicability=Applicability.UNSAFE,
    )
)
def go_unneeded_entitlements(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for entry, macho in bundle.machos():
        for sl, info in zip(macho.slices, go_info(bundle, entry), strict=False):
            sig = sl.signature
            if info is None or sl.filetype != MH_EXECUTE or sig is None:
                continue
            values = sig.entitlements.values if sig.entitlements else None
            if not values:
                continue
            extra = [key for key in UNNEEDED_ENTITLEMENTS if values.get(key) is True]
            if not extra:
                continue
            toolkit = ", ".join(f"{tk.name} {tk.version}" for tk in info.toolkits)
            context = f" (uses {toolkit}, which renders with Metal)" if toolkit else ""
            yield ctx.finding(
                path=entry.display,
                arch=sl.arch,
                message=f"Go executable{context} is signed with {', '.join(extra)}, which "
                "neither Go nor Metal rendering needs",
                command=codesign_command(bundle, entry, entitlements=True),
                evidence={"entitlements": ",".join(extra)},
            )
