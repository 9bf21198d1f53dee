"""What is a bundle, of which kind and format, and where its paths sit: decided from directory
names alone (this runs while the input is classified, before any file is read).

A directory is taken for a bundle by its extension (:data:`BUNDLE_EXTENSIONS`); the input
itself is the root bundle. Its *format* is what CFBundle and codesign see on disk:

* ``Contents/`` present: a modern bundle (CF's version 2, CFBundle_Resources.c
  ``_CFBundleGetBundleVersionForURL``); apps, plug-ins, XPC services, extensions. codesign
  requires the bundle root to hold nothing else (bundlediskrep.cpp ``BundleDiskRep::setup``,
  ``errSecCSUnsealedAppRoot``).
* ``Versions/`` and no ``Contents/``: a versioned bundle (frameworks). codesign descends into
  ``Versions/Current`` and signs that version as the bundle (``BundleDiskRep::setup``), after
  checking that the root holds only symlinks into it (``BundleDiskRep::validateFrameworkRoot``).
* ``Resources/`` and neither of the above: a shallow bundle (CF's version 0: Info.plist in
  ``Resources/``, the executable at the bundle's top).
* none of these: a flat bundle (CF's version 3: Info.plist at the top). Its default seal rules
  have no nested-code entries (``BundleDiskRep::defaultResourceRules``, the branch for a bundle
  without a Resources directory).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bundlelint.layout.locations import sealed_as_nested_code

#: Directory extensions that make a nested bundle.
BUNDLE_EXTENSIONS: tuple[str, ...] = (
    ".app",
    ".framework",
    ".appex",
    ".xpc",
    ".bundle",
    ".plugin",
    ".kext",
    ".systemextension",
    ".dext",
    ".qlgenerator",
    ".mdimporter",
    ".saver",
    ".prefPane",
)
#: Bundles that are applications of a kind: their Info.plist names a Contents/MacOS executable
#: that launchd or LaunchServices starts.
APP_LIKE_EXTENSIONS: tuple[str, ...] = (".app", ".appex", ".xpc")
#: Where a login item lives (relative to its container's content base): an app there is
#: started at login by ``SMLoginItemSetEnabled`` / ``SMAppService.loginItem``.
LOGIN_ITEMS_DIRECTORY = "Library/LoginItems"


class BundleKind(enum.Enum):
    """What a bundle is for, by its extension and place (Apple, "Placing content in a
    bundle")."""

    APP = "app"
    LOGIN_ITEM = "login item"  # an .app in Contents/Library/LoginItems
    FRAMEWORK = "framework"
    APP_EXTENSION = "app extension"  # .appex
    XPC_SERVICE = "XPC service"  # .xpc
    SYSTEM_EXTENSION = "system extension"  # .systemextension, .dext (DriverKit)
    KERNEL_EXTENSION = "kernel extension"  # .kext
    PLUGIN = "plug-in"  # .bundle, .plugin, .qlgenerator, .mdimporter, .saver, .prefPane
    OTHER = "other"  # the input directory when its name has none of the extensions


_KIND_BY_EXTENSION = {
    ".app": BundleKind.APP,
    ".framework": BundleKind.FRAMEWORK,
    ".appex": BundleKind.APP_EXTENSION,
    ".xpc": BundleKind.XPC_SERVICE,
    ".systemextension": BundleKind.SYSTEM_EXTENSION,
    ".dext": BundleKind.SYSTEM_EXTENSION,
    ".kext": BundleKind.KERNEL_EXTENSION,
}


class BundleFormat(enum.Enum):
    """How a bundle is laid out on disk (see the module docstring)."""

    CONTENTS = "contents"
    VERSIONED = "versioned"
    SHALLOW = "shallow"
    FLAT = "flat"


class Place(enum.Enum):
    """Where an entry sits: somewhere the signer treats as code, in Resources, or elsewhere."""

    CODE = "code"
    RESOURCES = "resources"
    OTHER = "other"


@dataclass(frozen=True)
class BundleDir:
    """A bundle inside the input (or the input itself)."""

    relpath: str  # "" for the root bundle
    display: str
    extension: str
    format: BundleFormat = BundleFormat.FLAT

    @property
    def prefix(self) -> str:
        """Input-relative prefix of paths inside the bundle ("" for the root bundle)."""
        return f"{self.relpath}/" if self.relpath else ""

    @property
    def contents(self) -> str:
        """"Contents/" for a modern bundle, else "" (its files sit at the bundle's top)."""
        return "Contents/" if self.format is BundleFormat.CONTENTS else ""

    def child(self, rel: str) -> str:
        """The input-relative path of ``rel`` inside this bundle's Contents directory (or the
        bundle itself when it has none)."""
        return f"{self.prefix}{self.contents}{rel}"

    @property
    def is_app(self) -> bool:
        return self.extension == ".app"

    @property
    def kind(self) -> BundleKind:
        kind = _KIND_BY_EXTENSION.get(self.extension)
        if kind is BundleKind.APP:
            parent = self.relpath.rpartition("/")[0]
            if parent.endswith("Contents/" + LOGIN_ITEMS_DIRECTORY):
                return BundleKind.LOGIN_ITEM
            return kind
        if kind is not None:
            return kind
        return BundleKind.PLUGIN if self.extension in BUNDLE_EXTENSIONS else BundleKind.OTHER


def suffix(relpath: str) -> str:
    """``PurePosixPath(relpath).suffix`` without building a path object (called for every
    directory of the input)."""
    name = relpath.rpartition("/")[2]
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def bundle_format(relpath: str, extension: str, dirs: set[str] | frozenset[str],
                  links: set[str] | frozenset[str]) -> BundleFormat:
    """The format of the bundle at ``relpath``, from the directories (and symlinks) of the
    input: the order of ``BundleDiskRep::setup`` (Contents, then Versions/Current), then CF's
    version test (``_CFBundleGetBundleVersionForURL``: a Resources directory or link). A
    framework with a Versions directory is taken as versioned even without a Current link, so
    that its code is judged in its version directory (codesign refuses it: see the structure
    rules)."""
    prefix = f"{relpath}/" if relpath else ""
    if f"{prefix}Contents" in dirs:
        return BundleFormat.CONTENTS
    if f"{prefix}Versions" in dirs:
        current = f"{prefix}Versions/Current"
        if current in links or current in dirs or extension == ".framework":
            return BundleFormat.VERSIONED
    if f"{prefix}Resources" in dirs or f"{prefix}Resources" in links:
        return BundleFormat.SHALLOW
    return BundleFormat.FLAT


def find_bundle_dirs(name: str, dirs: set[str], links: set[str],
                     single_file: bool) -> tuple[BundleDir, ...]:
    """Every bundle of an input called ``name`` whose directories are ``dirs`` (and symlinks
    ``links``), outermost first: the input itself (unless it is a single file), then each
    directory with a bundle extension, in path order."""
    found: list[BundleDir] = []
    if not single_file:
        ext = suffix(name)
        found.append(BundleDir("", name, ext, bundle_format("", ext, dirs, links)))
    for rel in sorted(dirs):
        ext = suffix(rel)
        if ext in BUNDLE_EXTENSIONS:
            found.append(BundleDir(rel, f"{name}/{rel}", ext,
                                   bundle_format(rel, ext, dirs, links)))
    return tuple(found)


def resource_base(owner: BundleDir, relpath: str) -> str | None:
    """The input-relative prefix ``owner``'s seal rules are matched against, for ``relpath``
    inside it: its Contents directory, the version directory ``relpath`` is in for a versioned
    bundle (every version is signed: StaticCode.cpp ``SecStaticCode::validateOtherVersions``),
    the bundle itself when shallow; ``None`` where the default rules have no nested code (a
    flat bundle, or a versioned bundle's root, which holds only symlinks)."""
    fmt = owner.format
    if fmt is BundleFormat.CONTENTS:
        return owner.child("")
    if fmt is BundleFormat.SHALLOW:
        return owner.prefix
    if fmt is BundleFormat.VERSIONED:
        prefix = owner.prefix
        parts = relpath[len(prefix):].split("/")
        if len(parts) >= 3 and parts[0] == "Versions":
            return f"{prefix}Versions/{parts[1]}/"
    return None


def place_of(owner: BundleDir, relpath: str) -> Place:
    """Where the signer puts ``relpath``, by the default rules2 of ``owner``, its innermost
    bundle (bundlediskrep.cpp, ``BundleDiskRep::defaultResourceRules``), matched against the
    path relative to its resource base (:func:`resource_base`):

    * ``Resources/...`` is a resource (weight 20 beats the nested rules);
    * anything in a ``.dSYM`` directory is a resource (weight 11);
    * a file directly in the base, or under a sealed code location
      (:data:`bundlelint.layout.locations.SEALED_CODE_DIRECTORIES`), is nested code (weight 10);
    * anything else is a resource outside Resources (``OTHER``), and so is everything in a
      flat bundle and anything of a versioned bundle outside ``Versions/<name>/``.

    The answer depends only on the parent directory of ``relpath`` (the bundle model
    classifies a directory's entries at once)."""
    base = resource_base(owner, relpath)
    if base is None or not relpath.startswith(base):
        return Place.OTHER
    inner = relpath[len(base):]
    if inner.startswith("Resources/"):
        return Place.RESOURCES
    return Place.CODE if sealed_as_nested_code(inner) else Place.OTHER
