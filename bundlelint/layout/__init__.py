"""Bundle geometry, as CFBundle and codesign see it: the one owner of the answers to "is this a
bundle, of which kind and format", "where is its content, its Info.plist, its main
executable, its seal", "where does nested code go" and "what does codesign sign to re-sign
this file".

Sources: Apple's Security (OSX/libsecurity_codesigning/lib/bundlediskrep.cpp
``BundleDiskRep::setup``, ``validateFrameworkRoot``, ``defaultResourceRules``,
``adjustResources``; resources.cpp ``ResourceBuilder::scan``), CoreFoundation (CFBundle.c
``_CFBundleCopyExecutableURLInDirectory2`` and ``_CFBundleCopyExecutableName``,
CFBundle_Resources.c ``_CFBundleGetBundleVersionForURL``, CFBundle_InfoPlist.c
``_CFBundleCopyInfoDictionaryInDirectoryWithVersion``), and Apple's "Placing content in a
bundle"; docs/formats.md section 4.1 sums them up.

Layer: the bundle model's (``bundlelint.bundle`` builds a :class:`Layout` for each input and
hands out its answers); it imports only parsers and errors.
"""

from bundlelint.layout.bundles import (
    APP_LIKE_EXTENSIONS,
    BUNDLE_EXTENSIONS,
    BundleDir,
    BundleFormat,
    BundleKind,
    Place,
    bundle_format,
    find_bundle_dirs,
    place_of,
    resource_base,
)
from bundlelint.layout.locations import (
    BASE_NAMES_NOT_NESTED,
    CODE_LOCATIONS,
    SEALED_CODE_DIRECTORIES,
    CodeLocation,
    code_location_of,
    sealed_as_nested_bundle,
    sealed_as_nested_code,
)
from bundlelint.layout.model import (
    CODE_RESOURCES,
    BundleGeometry,
    Layout,
    Tree,
    executable_name,
)

__all__ = [
    "APP_LIKE_EXTENSIONS",
    "BASE_NAMES_NOT_NESTED",
    "BUNDLE_EXTENSIONS",
    "CODE_LOCATIONS",
    "CODE_RESOURCES",
    "SEALED_CODE_DIRECTORIES",
    "BundleDir",
    "BundleFormat",
    "BundleGeometry",
    "BundleKind",
    "CodeLocation",
    "Layout",
    "Place",
    "Tree",
    "bundle_format",
    "code_location_of",
    "executable_name",
    "find_bundle_dirs",
    "place_of",
    "resource_base",
    "sealed_as_nested_bundle",
    "sealed_as_nested_code",
]
