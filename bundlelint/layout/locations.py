"""Where a bundle keeps nested code: the directories under its content base that codesign and
Apple's documentation reserve for code.

Two sources, two meanings, kept apart on purpose:

* **Sealed as nested code.** The default ``rules2`` codesign writes into every bundle with a
  ``Resources`` directory marks ``^[^/]+$`` (a file directly in the content base) and
  ``^(Frameworks|SharedFrameworks|PlugIns|Plug-ins|XPCServices|Helpers|MacOS|Library/(Automator|
  Spotlight|LoginItems))/`` as ``nested`` (Security, bundlediskrep.cpp,
  ``BundleDiskRep::defaultResourceRules``; the same list is the fallback in signer.cpp,
  ``SecCodeSigner::Signer::buildResources``). Whatever sits there is signed and verified as
  code of its own: a directory with a dot in its name as a nested bundle, a file as a nested
  Mach-O (resources.cpp, ``ResourceBuilder::scan``), so a data file there is "code object is not
  signed at all ... In subcomponent".
* **Documented code locations** that the default rules seal as ordinary resources (every file
  hashed, nothing verified as code): ``Library/LaunchServices`` (privileged helper tools),
  ``Library/SystemExtensions``, ``Library/QuickLook`` (Apple, "Placing content in a bundle",
  https://developer.apple.com/documentation/bundleresources/placing-content-in-a-bundle). Code
  placed there is still signed on its own before the bundle (the notary checks every Mach-O).

Paths here are relative to a bundle's content base (``Contents/``, or a framework's
``Versions/<name>/``); see :mod:`bundlelint.layout.geometry`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodeLocation:
    """One directory (relative to the content base) that holds nested code."""

    path: str  # "Frameworks", "Library/LoginItems", ...
    #: Whether codesign's default rules2 seal it as nested code (verified as code of its own);
    #: if not, its files are sealed as resources and only Apple's documentation reserves it.
    sealed_as_code: bool
    holds: str  # what Apple puts there, for messages

    def contains(self, inner: str) -> bool:
        """Whether ``inner`` (relative to the content base) is inside this location."""
        return inner.startswith(self.path + "/")


#: Every nested-code location, in the order of the rules2 pattern, then the documented ones.
CODE_LOCATIONS: tuple[CodeLocation, ...] = (
    CodeLocation("Frameworks", True, "frameworks and dynamic libraries"),
    CodeLocation("SharedFrameworks", True, "frameworks shared with other apps"),
    CodeLocation("PlugIns", True, "plug-ins and app extensions"),
    CodeLocation("Plug-ins", True, "plug-ins (older spelling)"),
    CodeLocation("XPCServices", True, "XPC services"),
    CodeLocation("Helpers", True, "helper apps and tools"),
    CodeLocation("MacOS", True, "the main executable and helper tools"),
    CodeLocation("Library/Automator", True, "Automator actions"),
    CodeLocation("Library/Spotlight", True, "Spotlight importers"),
    CodeLocation("Library/LoginItems", True, "login items"),
    CodeLocation("Library/LaunchServices", False, "privileged helper tools"),
    CodeLocation("Library/SystemExtensions", False, "system extensions"),
    CodeLocation("Library/QuickLook", False, "Quick Look generators and extensions"),
)

#: The directories the default rules2 seal as nested code (bundlediskrep.cpp,
#: ``BundleDiskRep::defaultResourceRules``).
SEALED_CODE_DIRECTORIES: tuple[str, ...] = tuple(
    loc.path for loc in CODE_LOCATIONS if loc.sealed_as_code)

#: Executable subdirectories CFBundle searches for the main executable, in its order
#: (CF, CFBundle.c ``_CFBundleCopyExecutableURLInDirectory2``; the names come from
#: CFBundle_Resources.c ``_CFBundleGetPlatformExecutablesSubdirectoryName`` and its three
#: siblings), before the directory itself.
EXECUTABLE_SUBDIRECTORIES: tuple[str, ...] = ("MacOS", "Mac OS X", "MacOSClassic", "Mac OS 8")


#: Names directly in the content base that rules of higher weight take out of the ``^[^/]+$``
#: nested rule (bundlediskrep.cpp, ``BundleDiskRep::defaultResourceRules``: Info.plist and
#: PkgInfo omitted, version.plist and embedded.provisionprofile resources, .DS_Store omitted)
#: or that the signer excludes (``BundleDiskRep::adjustResources``: _CodeSignature,
#: CodeResources, _MASReceipt). :func:`sealed_as_nested_code` answers by parent directory only
#: (the bundle model classifies a whole directory at once), so callers judging one file check
#: these names too.
BASE_NAMES_NOT_NESTED: frozenset[str] = frozenset((
    "Info.plist", "PkgInfo", "version.plist", "embedded.provisionprofile", ".DS_Store",
    "_CodeSignature", "CodeResources", "_MASReceipt"))


def sealed_as_nested_bundle(name: str) -> bool:
    """Whether codesign seals a directory called ``name``, in a place its rules mark nested,
    as one nested bundle (verified by its cdhash) rather than walking into it: it has a dot in
    its name (resources.cpp ``ResourceBuilder::scan``: "nested, has extension -> treat as
    nested bundle"), whatever the extension."""
    return "." in name


def code_location_of(inner: str) -> CodeLocation | None:
    """The code location ``inner`` (a path relative to a content base) is inside, if any."""
    for loc in CODE_LOCATIONS:
        if inner.startswith(loc.path) and inner[len(loc.path):len(loc.path) + 1] == "/":
            return loc
    return None


def sealed_as_nested_code(inner: str) -> bool:
    """Whether codesign's default rules2 mark ``inner`` (relative to the content base of a
    bundle with a Resources directory) ``nested``: a file directly in the base, or anything
    under one of :data:`SEALED_CODE_DIRECTORIES`, unless it is in a ``.dSYM`` directory (weight
    11 beats the nested weight 10) or under ``Resources/`` (weight 20). The answer depends only
    on the parent directory of ``inner``; see :data:`BASE_NAMES_NOT_NESTED`."""
    if inner.startswith("Resources/"):
        return False
    parent = inner.rpartition("/")[0]
    if parent.endswith(".dSYM") or ".dSYM/" in parent:
        return False
    if not parent:
        return True
    location = code_location_of(inner)
    return location is not None and location.sealed_as_code
