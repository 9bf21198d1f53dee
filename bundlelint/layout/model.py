"""The layout of one input: for every bundle its content base, Info.plist, main executable and
seal location, and for every path its owning bundle, its code location and its signing target.

One object answers these questions for every consumer (the bundle model, the code-hash and
seal analyses, the rules' fix commands, ``plan``): the answers used to be computed in five
places that disagreed (a framework whose executable is not named after it was signed as a
bundle by ``check`` and as a loose file by ``plan``).

The layout reads the input through :class:`Tree` (what is at a path, and an Info.plist's
values), so it knows nothing of how the input is stored or classified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bundlelint.errors import FileSkipped, ParseError
from bundlelint.layout.bundles import APP_LIKE_EXTENSIONS, BundleDir, BundleFormat
from bundlelint.layout.locations import EXECUTABLE_SUBDIRECTORIES, CodeLocation, code_location_of
from bundlelint.parsers.plist import InfoPlist
from bundlelint.parsers.volume import NodeKind

#: Where the signer writes a bundle's seal, relative to its content base.
CODE_RESOURCES = "_CodeSignature/CodeResources"


class Tree(Protocol):
    """What the layout reads of an input."""

    def node_kind(self, relpath: str) -> NodeKind | None:
        """What is at ``relpath`` (never following a symlink); ``None`` if nothing."""
        ...

    def link_target(self, relpath: str) -> str | None:
        """The target of the symlink at ``relpath``; ``None`` if it is not one."""
        ...

    def read_info_plist(self, relpath: str) -> InfoPlist | ParseError:
        """The Info.plist at ``relpath`` parsed, or why not (``FileSkipped`` when it is over
        ``--max-file-size`` and so was not read)."""
        ...


@dataclass(frozen=True)
class BundleGeometry:
    """Where one bundle keeps its code, seal and Info.plist (input-relative paths)."""

    bundle_dir: BundleDir
    #: The directory CodeResources paths are relative to and code locations are found in:
    #: ``X.app/Contents/``, ``X.framework/Versions/A/``, or the bundle itself; with a trailing
    #: "/" unless empty.
    base: str
    info_plist: str | None  # the Info.plist CFBundle reads, if something is there
    #: The name CFBundle looks the main executable up by (CFBundleExecutable, else the
    #: bundle's name without extension); ``None`` when unusable or unknown.
    executable_name: str | None
    main_executable: str | None  # where that name was found, if anywhere
    #: The main executable is unknown because the Info.plist was not read (--max-file-size).
    executable_unknown: bool
    #: The Info.plist was read and is a non-empty dictionary.
    has_info: bool = False

    @property
    def signable(self) -> bool:
        """Whether codesign can sign this bundle as a bundle: CFBundle finds a main
        executable, or at least an Info.plist that stands in as its main file; otherwise
        codesign refuses it as an unrecognized bundle format (bundlediskrep.cpp
        ``BundleDiskRep::setup``, ``errSecCSBadBundleFormat``; installer packages aside)."""
        return (self.main_executable is not None or self.info_plist is not None
                or self.executable_unknown)

    @property
    def code_resources(self) -> str:
        """Where ``_CodeSignature/CodeResources`` is (or should be)."""
        return self.base + CODE_RESOURCES

    def rel(self, relpath: str) -> str:
        """``relpath`` relative to the content base."""
        return relpath[len(self.base):] if relpath.startswith(self.base) else relpath


def executable_name(bundle_dir: BundleDir, info: InfoPlist | None) -> str | None:
    """The main executable's name as CFBundle takes it (CF, CFBundle.c
    ``_CFBundleCopyExecutableName``): ``CFBundleExecutable``, else the old ``NSExecutable``,
    when a non-empty string; else the bundle's directory name without its extension (also
    when there is no Info.plist, or it is malformed: CFBundle then makes an empty one up).
    ``None`` for a name that would leave the directory it is looked up in."""
    name: str | None = None
    if info is not None:
        for key in ("CFBundleExecutable", "NSExecutable"):
            value = info.string(key)
            if value:
                name = value
                break
    if name is None:
        leaf = bundle_dir.display.rpartition("/")[2]
        name = leaf[: len(leaf) - len(bundle_dir.extension)] if bundle_dir.extension else leaf
    if not name or "/" in name or name in (".", ".."):
        return None
    return name


class Layout:
    """The geometry of every bundle of one input (built by the bundle model; cached)."""

    def __init__(self, tree: Tree, bundle_dirs: tuple[BundleDir, ...],
                 single_file: bool, name: str) -> None:
        self._tree = tree
        self.bundle_dirs = bundle_dirs
        self.single_file = single_file
        self._by_path = {bd.relpath: bd for bd in bundle_dirs}
        # The input's root owns what no bundle does; a container's root is not a bundle.
        root = bundle_dirs[0] if bundle_dirs and not bundle_dirs[0].relpath else None
        self._fallback_owner = root or BundleDir("", name, "")
        self._owner_by_directory: dict[str, BundleDir] = {}
        self._geometry: dict[str, BundleGeometry] = {}
        self._by_main: dict[str, BundleGeometry] | None = None

    # --- bundles -------------------------------------------------------------------------

    def bundle_at(self, relpath: str) -> BundleDir | None:
        """The bundle whose directory is ``relpath``, if it is one."""
        return self._by_path.get(relpath)

    def owner_of(self, relpath: str) -> BundleDir:
        """The innermost bundle that contains ``relpath`` (found by walking up its parents, so
        the cost does not grow with the number of bundles); a bundle directory is its own
        owner, except the root bundle, which owns everything else."""
        by_path = self._by_path
        found = by_path.get(relpath)
        if found is not None and found.relpath:
            return found
        parent = relpath.rpartition("/")[0]
        cached = self._owner_by_directory.get(parent)
        if cached is not None:
            return cached
        owner = self._fallback_owner
        path = parent
        while path:
            found = by_path.get(path)
            if found is not None and found.relpath:
                owner = found
                break
            path = path.rpartition("/")[0]
        self._owner_by_directory[parent] = owner
        return owner

    def innermost_app(self, relpath: str) -> BundleDir | None:
        """The innermost app-like bundle (.app, .appex, .xpc) containing ``relpath``."""
        best: BundleDir | None = None
        for bd in self.bundle_dirs:
            inside = not bd.relpath or relpath.startswith(bd.relpath + "/")
            if inside and bd.extension in APP_LIKE_EXTENSIONS and (
                    best is None or len(bd.relpath) >= len(best.relpath)):
                best = bd
        return best

    # --- one bundle ----------------------------------------------------------------------

    def content_base(self, bundle_dir: BundleDir) -> str:
        """Input-relative prefix of the directory that holds ``bundle_dir``'s content.

        Contents/ for a modern bundle; for a versioned one the version ``Versions/Current``
        points at, as codesign descends into it (bundlediskrep.cpp ``BundleDiskRep::setup``);
        since links are not followed here, ``Versions/A`` when the link is missing, is a copy
        or leaves the bundle, or the only version directory when there is no ``A``; the
        bundle itself when shallow or flat."""
        fmt = bundle_dir.format
        if fmt is BundleFormat.CONTENTS:
            return bundle_dir.child("")
        prefix = bundle_dir.prefix
        if fmt is not BundleFormat.VERSIONED:
            return prefix
        tree = self._tree
        names = []
        target = self._tree.link_target(f"{prefix}Versions/Current")
        if target:
            names.append(target.strip("/"))
        names.append("A")
        for name in names:
            if "/" not in name and name not in (".", "..") and tree.node_kind(
                    f"{prefix}Versions/{name}") is NodeKind.DIRECTORY:
                return f"{prefix}Versions/{name}/"
        return prefix

    def info_plist_path(self, bundle_dir: BundleDir) -> str | None:
        """The Info.plist CFBundle reads for ``bundle_dir``, if anything other than a
        directory is there (CF, CFBundle_InfoPlist.c
        ``_CFBundleCopyInfoDictionaryInDirectoryWithVersion``): ``Contents/Info.plist`` of a
        modern bundle; ``Resources/Info.plist`` of a shallow bundle, or of a version
        directory that has ``Resources``; else ``Info.plist`` at the top."""
        base = self.content_base(bundle_dir)
        if bundle_dir.format is BundleFormat.CONTENTS:
            candidate = base + "Info.plist"
        elif self._tree.node_kind(base + "Resources") in (NodeKind.DIRECTORY, NodeKind.SYMLINK):
            candidate = base + "Resources/Info.plist"
        else:
            candidate = base + "Info.plist"
        kind = self._tree.node_kind(candidate)
        return candidate if kind is not None and kind is not NodeKind.DIRECTORY else None

    def geometry(self, bundle_dir: BundleDir) -> BundleGeometry:
        """Everything :class:`BundleGeometry` says about ``bundle_dir`` (cached)."""
        cached = self._geometry.get(bundle_dir.relpath)
        if cached is None:
            cached = self._geometry[bundle_dir.relpath] = self._compute(bundle_dir)
        return cached

    def _compute(self, bundle_dir: BundleDir) -> BundleGeometry:
        base = self.content_base(bundle_dir)
        info_path = self.info_plist_path(bundle_dir)
        info: InfoPlist | None = None
        if info_path is not None:
            parsed = self._tree.read_info_plist(info_path)
            if isinstance(parsed, FileSkipped):
                return BundleGeometry(bundle_dir, base, info_path, None, None, True)
            info = parsed if isinstance(parsed, InfoPlist) else None
        name = executable_name(bundle_dir, info)
        main = self._find_executable(bundle_dir, base, name) if name else None
        return BundleGeometry(bundle_dir, base, info_path, name, main, False,
                              has_info=bool(info and info.values))

    def _find_executable(self, bundle_dir: BundleDir, base: str, name: str) -> str | None:
        """Where CFBundle finds the executable ``name`` (CF, CFBundle.c
        ``_CFBundleCopyExecutableURLInDirectory2``): in the executables subdirectories of the
        support-files directory (``Contents/`` of a modern bundle, else the bundle or version
        directory), then that directory, then the bundle's top (for a versioned bundle CFBundle's
        bundle is the version directory, so not the root and its symlinks). Anything but a directory
        counts, as for CFBundle (a symlink there is codesign's ``errSecCSRegularFile``)."""
        candidates = [f"{base}{sub}/{name}" for sub in EXECUTABLE_SUBDIRECTORIES]
        candidates.append(base + name)
        if bundle_dir.format is BundleFormat.CONTENTS:
            candidates.append(bundle_dir.prefix + name)
        tree = self._tree
        for path in candidates:
            kind = tree.node_kind(path)
            if kind is not None and kind is not NodeKind.DIRECTORY:
                return path
        return None

    def main_executable(self, bundle_dir: BundleDir) -> str | None:
        """The input-relative path of ``bundle_dir``'s main executable, if there is one."""
        return self.geometry(bundle_dir).main_executable

    def geometries(self) -> tuple[BundleGeometry, ...]:
        """The geometry of every bundle of the input (none for a single file)."""
        if self.single_file:
            return ()
        return tuple(self.geometry(bd) for bd in self.bundle_dirs)

    # --- any path ------------------------------------------------------------------------

    def bundle_of_main_executable(self, relpath: str) -> BundleGeometry | None:
        """The bundle whose main executable ``relpath`` is, if any (the innermost one when
        an executable is somehow the main one of two bundles)."""
        if self._by_main is None:
            by_main: dict[str, BundleGeometry] = {}
            for geometry in self.geometries():
                if geometry.main_executable is not None:
                    by_main[geometry.main_executable] = geometry
            self._by_main = by_main
        return self._by_main.get(relpath)

    def signing_target(self, relpath: str) -> str:
        """The input-relative path codesign is pointed at to (re-)sign the code at
        ``relpath``: the bundle whose main executable it is, else the file itself (for a
        single-file input, the file).

        codesign signs a bundle through its main executable (bundlediskrep.cpp
        ``BundleDiskRep::setup``), and pointed at such an executable it signs the bundle
        anyway (diskrep.cpp ``DiskRep::bestGuess`` asks CF's
        ``_CFBundleCreateWithExecutableURLIfMightBeBundle``): a bundle's executable is never
        signed on its own. That CF call takes a flat bundle (no Contents, Resources or
        Versions) only when its Info.plist is a non-empty dictionary, so an executable named
        like a plain directory around it (``dist/tool/tool``) stays a file."""
        if self.single_file:
            return relpath
        owner = self.bundle_of_main_executable(relpath)
        if owner is None or (owner.bundle_dir.format is BundleFormat.FLAT
                             and not owner.has_info):
            return relpath
        return owner.bundle_dir.relpath

    def code_location(self, relpath: str) -> CodeLocation | None:
        """The nested-code location of its innermost bundle that ``relpath`` is in, if any
        (:data:`bundlelint.layout.locations.CODE_LOCATIONS`)."""
        if self.single_file:
            return None
        owner = self.owner_of(relpath)
        base = self.content_base(owner)
        if not relpath.startswith(base):
            return None
        return code_location_of(relpath[len(base):])
