"""Go facts per Mach-O slice: toolchain version, build info, and the GUI toolkit it uses.

Why an analysis: rules about Go (old toolchains, cgo-less GUI builds, the linker's ad-hoc
signature) need bytes beyond the load commands: the build-info blob in ``__DATA`` and, for
binaries whose build info was stripped, the runtime's version string in ``__rodata``. Both are
read once per slice through ``Bundle.open_entry`` and cached with ``Bundle.memo``.

Toolkit facts (``TOOLKITS``) and where they come from:

* Fyne (``fyne.io/fyne/v2``): its desktop driver is GLFW through ``github.com/go-gl/glfw``, a
  cgo package; without cgo there is no window driver on macOS.
* Gio (``gioui.org``): its macOS backend (``gioui.org/app``) is Objective-C called through cgo.
* Wails (``github.com/wailsapp/wails/v2``): its macOS frontend is WKWebView through cgo and
  Objective-C.
* Ebitengine (``github.com/hajimehoshi/ebiten/v2``): calls Cocoa and Metal through purego on
  macOS. ebiten issue #3503 (v2.10 alpha, 2026) shows ``CGO_ENABLED=0`` macOS builds opening a
  window, so a cgo-less build is not an error; since which version that holds is UNCONFIRMED
  (the tracking issue hajimehoshi/ebiten#1162 is still open), so bundlelint claims nothing
  for older versions.

How they draw: Fyne through OpenGL (go-gl), Wails through WKWebView (whose JavaScript JIT runs
in WebKit's own process), Gio and Ebitengine through Metal. None of these needs ``allow-jit``,
``allow-unsigned-executable-memory`` or ``disable-library-validation`` under the hardened
runtime, and Go itself generates no code at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

from bundlelint.bundle import Bundle, Entry
from bundlelint.errors import ParseError
from bundlelint.parsers.gobuildinfo import (
    GoBuildInfo,
    find_runtime_version,
    is_go_slice,
    parse_go_buildinfo,
    version_key,
)
from bundlelint.parsers.macho import Slice


def renderer_note(toolkits: tuple[Toolkit, ...] | list[Toolkit]) -> str:
    """Why a Go app needs no JIT entitlement, naming how each of its toolkits draws."""
    drawn = "; ".join(f"{tk.name} draws with {tk.facts.renders_with}" for tk in toolkits)
    return ("Go generates no code at run time" + (f" and {drawn}" if drawn else "")
            + ": none of that needs a JIT or unsigned-memory entitlement.")


#: Entitlements people add "for Go" or "for Metal" that neither needs.
UNNEEDED_ENTITLEMENTS = (
    "com.apple.security.cs.allow-jit",
    "com.apple.security.cs.allow-unsigned-executable-memory",
    "com.apple.security.cs.disable-executable-page-protection",
)


@dataclass(frozen=True)
class ToolkitFacts:
    """What bundlelint knows about one Go GUI toolkit on macOS."""

    name: str
    module: str
    #: True: cannot open a window without cgo; False: works without; None: not established.
    needs_cgo: bool | None
    cgo_note: str
    #: How it draws on macOS ("Metal", "OpenGL via go-gl", "WKWebView").
    renders_with: str = "Metal"
    #: Entitlements the toolkit needs under the hardened runtime (none of the four needs one).
    entitlements: tuple[str, ...] = ()


TOOLKITS: tuple[ToolkitFacts, ...] = (
    ToolkitFacts("Fyne", "fyne.io/fyne/v2", True,
                 "Fyne opens windows through GLFW (github.com/go-gl/glfw), a cgo package",
                 renders_with="OpenGL via go-gl"),
    ToolkitFacts("Gio", "gioui.org", True,
                 "Gio's macOS backend (gioui.org/app) calls Cocoa through cgo and Objective-C"),
    ToolkitFacts("Wails", "github.com/wailsapp/wails/v2", True,
                 "Wails' macOS frontend drives WKWebView through cgo and Objective-C",
                 renders_with="WKWebView"),
    ToolkitFacts("Ebitengine", "github.com/hajimehoshi/ebiten/v2", None,
                 "Ebitengine calls Cocoa and Metal through purego on macOS; cgo-less builds "
                 "open windows in recent releases (ebiten issue #3503)"),
)


#: Other Go GUI modules, shown by ``inspect`` and the SBOM as toolkit "other" (display only:
#: no rule reads them, since bundlelint holds no checked facts about how they build on macOS).
OTHER_TOOLKIT_MODULES: tuple[tuple[str, str], ...] = (
    ("github.com/webview/webview_go", "webview"),
    ("github.com/webview/webview", "webview"),
    ("github.com/progrium/darwinkit", "DarwinKit"),
    ("github.com/progrium/macdriver", "macdriver"),
    ("github.com/getlantern/systray", "systray"),
    ("fyne.io/systray", "systray"),
    ("github.com/go-gl/glfw", "GLFW"),
    ("github.com/veandco/go-sdl2", "SDL2"),
    ("github.com/mappu/miqt", "MIQT (Qt)"),
    ("github.com/therecipe/qt", "therecipe/qt"),
    ("github.com/energye/energy/v2", "Energy (CEF)"),
    ("github.com/gotk3/gotk3", "gotk3 (GTK)"),
    ("github.com/lxn/walk", "walk"),
    ("github.com/andlabs/ui", "andlabs/ui"),
)


@dataclass(frozen=True)
class OtherToolkit:
    """A GUI module outside ``TOOLKITS`` found in the dependencies (toolkit kind "other")."""

    name: str
    module: str  # the module path as the build info lists it
    version: str
    replaced_by: str | None


@dataclass(frozen=True)
class Toolkit:
    """A toolkit found in a binary's dependencies, with the version the build used."""

    facts: ToolkitFacts
    version: str
    replaced_by: str | None  # the ``=>`` path, if the module was replaced

    @property
    def name(self) -> str:
        return self.facts.name


@dataclass(frozen=True)
class GoInfo:
    """Go facts of one slice. ``go_version`` comes from the build info, else from the runtime
    string; ``build_info_error`` is set when a build-info header was found but is malformed."""

    arch: str
    go_version: str | None
    version_source: str  # "build info", "runtime string" or "unknown"
    build_info: GoBuildInfo | None
    build_info_error: ParseError | None
    toolkits: tuple[Toolkit, ...]
    #: GUI modules of kind "other" (after the four ``TOOLKITS``), for display.
    other_toolkits: tuple[OtherToolkit, ...] = ()

    @property
    def cgo_enabled(self) -> bool | None:
        """CGO_ENABLED from the build settings; None when the build info does not say."""
        if self.build_info is None:
            return None
        value = self.build_info.setting("CGO_ENABLED")
        return None if value is None else value == "1"

    @property
    def version_tuple(self) -> tuple[int, int, int, int] | None:
        if self.go_version is None:
            return None
        key = version_key(self.go_version)
        return key if key[0] else None

    def older_than(self, minor: int) -> bool:
        """Whether this is a Go 1.x release with x < ``minor`` (False if unknown)."""
        vt = self.version_tuple
        return vt is not None and vt[1] < minor


def detect_toolkits(info: GoBuildInfo) -> tuple[Toolkit, ...]:
    """GUI toolkits among the main module and dependencies (a module path or a sub-module)."""
    found: list[Toolkit] = []
    mods = ([info.main] if info.main else []) + list(info.deps)
    for facts in TOOLKITS:
        for mod in mods:
            if _is_module_or_sub(mod.path, facts.module):
                found.append(Toolkit(facts, mod.version,
                                     mod.replace.path if mod.replace else None))
                break
    return tuple(found)


def _is_module_or_sub(path: str, module: str) -> bool:
    return path == module or path.startswith(module + "/")


def detect_other_toolkits(info: GoBuildInfo) -> tuple[OtherToolkit, ...]:
    """GUI modules of ``OTHER_TOOLKIT_MODULES`` among the main module and dependencies,
    once per display name, in the table's order."""
    found: dict[str, OtherToolkit] = {}
    mods = ([info.main] if info.main else []) + list(info.deps)
    for prefix, name in OTHER_TOOLKIT_MODULES:
        for mod in mods:
            if name not in found and _is_module_or_sub(mod.path, prefix):
                found[name] = OtherToolkit(name, mod.path, mod.version,
                                           mod.replace.path if mod.replace else None)
    return tuple(found.values())


def _slice_info(bundle: Bundle, entry: Entry, sl: Slice) -> GoInfo | None:
    if not is_go_slice(sl):
        return None
    build_info: GoBuildInfo | None = None
    error: ParseError | None = None
    runtime: tuple[str, int] | None = None
    try:
        with bundle.open_entry(entry) as fh:
            try:
                build_info = parse_go_buildinfo(fh, sl, entry.display)
            except ParseError as err:
                error = err
            if build_info is None or not build_info.go_version:
                runtime = find_runtime_version(fh, sl)
    except OSError as err:
        error = ParseError("Go build info", entry.display, None, f"cannot read: {err}")
    if build_info is not None and build_info.go_version:
        version: str | None = build_info.go_version
        source = "build info"
    elif runtime is not None:
        version, source = runtime[0], "runtime string"
    else:
        version, source = None, "unknown"
    toolkits = detect_toolkits(build_info) if build_info else ()
    others = detect_other_toolkits(build_info) if build_info else ()
    return GoInfo(arch=sl.arch, go_version=version, version_source=source,
                  build_info=build_info, build_info_error=error, toolkits=toolkits,
                  other_toolkits=others)


def go_info(bundle: Bundle, entry: Entry) -> tuple[GoInfo | None, ...]:
    """Per slice of ``entry`` (same order as ``bundle.macho(entry).slices``): its ``GoInfo``,
    or None for a slice not linked by Go. Empty if the file is not a readable Mach-O."""

    def compute() -> tuple[GoInfo | None, ...]:
        try:
            macho = bundle.macho(entry)
        except ParseError:
            return ()
        return tuple(_slice_info(bundle, entry, sl) for sl in macho.slices)

    return bundle.memo("go_info", entry.relpath, compute)


def slice_go_info(bundle: Bundle, entry: Entry, sl: Slice) -> GoInfo | None:
    """The ``GoInfo`` of one slice of ``entry`` (matched by its offset in the file)."""
    try:
        macho = bundle.macho(entry)
    except ParseError:
        return None
    infos = go_info(bundle, entry)
    for candidate, info in zip(macho.slices, infos, strict=False):
        if candidate.offset == sl.offset:
            return info
    return None


def bundle_toolkits(bundle: Bundle) -> tuple[Toolkit, ...]:
    """Every toolkit found in any Go slice of the input, once per toolkit name."""
    seen: dict[str, Toolkit] = {}
    for entry, _ in bundle.machos():
        for info in go_info(bundle, entry):
            for tk in info.toolkits if info else ():
                seen.setdefault(tk.name, tk)
    return tuple(seen.values())
