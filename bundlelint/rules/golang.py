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

from bundlelint.analysis.golang import UNNEEDED_ENTITLEMENTS, go_info, renderer_note
from bundlelint.findings import Applicability, Finding
from bundlelint.parsers.macho import MH_EXECUTE, PLATFORM_MACOS, Version
from bundlelint.rules import _evidence as E
from bundlelint.rules._commands import codesign_command
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, rule, toolchain

#: The first Go release whose linker writes a 10.9 SDK (docs/formats.md 5.5).
FIRST_NOTARIZABLE_GO_MINOR = 13
MIN_NOTARY_SDK = Version(10, 9)


@rule(
    RuleMeta(
        id="BL601",
        slug="go-toolchain-too-old",
        consequence=Consequence.ADVICE,
        evidence=(
            toolchain(
                "Go 1.12 point releases already write SDK 10.9 (golang/go#33968: the linker's "
                "minimum changed between 1.12.5 and 1.12.9), so a pre-1.13 toolchain is not by "
                "itself a notary problem; BL101 reports an SDK that is too old",
                "https://github.com/golang/go/issues/33968",
            ),
            E.SDK_10_9,
        ),
        summary="A Go binary was built by a Go release older than 1.13",
        what=(
            "Reads the Go version of every Go slice (from its build info, or from the runtime's "
            "version string when the build info was stripped) and reports releases before 1.13 "
            "whose slice nevertheless carries an SDK of 10.9 or later. When the SDK itself is "
            "too old, BL101 reports it instead."
        ),
        why=(
            "Go's internal linker wrote SDK 10.7 until the fix for golang/go#30488, which also "
            "reached a Go 1.12 point release (the linker's minimum changed between 1.12.5 and "
            "1.12.9, golang/go#33968); when a slice still carries an old SDK, BL101 reports "
            "that. What is left is advice: these releases get no security fixes."
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
        consequence=Consequence.ADVICE,
        evidence=(
            toolchain(
                "with CGO_ENABLED=0 the go command builds no file that imports C: a toolkit "
                "that reaches Cocoa through cgo loses its window code (Fyne and Wails then fail "
                "to compile; Ebitengine uses purego and needs no cgo)",
                "https://pkg.go.dev/cmd/cgo",
            ),
            toolchain(
                "Gio's macOS window code (app/os_macos.go) is cgo and Objective-C with no "
                "cgo-less fallback, so gioui.org/app does not compile without cgo either",
                "https://github.com/gioui/gio/blob/main/app/os_macos.go",
            ),
        ),
        summary="A Go GUI app whose toolkit needs cgo on macOS was built with CGO_ENABLED=0",
        what=(
            "For every Go executable slice whose build info lists Fyne, Gio or Wails, reads the "
            "CGO_ENABLED build setting and reports 0. Ebitengine is not reported: it reaches "
            "Cocoa and Metal through purego."
        ),
        why=(
            "Fyne (GLFW through go-gl), Wails (WKWebView) and Gio (gioui.org/app) reach Cocoa "
            "through cgo; with CGO_ENABLED=0 their window code does not compile at all. A "
            "binary that lists them and was built without cgo therefore contains none of that "
            "code: it cannot open a window through them, usually because a helper or CLI was "
            "built from the GUI's module. Ebitengine reaches Cocoa through purego and is not "
            "reported."
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
        consequence=Consequence.ADVICE,
        evidence=(
            E.EXCEPTIONS_OPT_IN,
        ),
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
            context = f" (uses {toolkit})" if toolkit else ""
            yield ctx.finding(
                path=entry.display,
                arch=sl.arch,
                message=f"Go executable{context} is signed with {', '.join(extra)}. "
                + renderer_note(info.toolkits),
                command=codesign_command(bundle, entry, entitlements=True),
                evidence={"entitlements": ",".join(extra)},
            )
