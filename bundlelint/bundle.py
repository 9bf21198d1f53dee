"""The bundle model: one walk over the input, every entry classified, artefacts parsed lazily.

An input is an ``.app`` (or any bundle directory) or a single file (a bare Mach-O). The walk goes
through a ``Source`` so that other containers (a ``.zip`` as uploaded to Apple) can be added
without touching rules: rules only ever see ``Entry`` values and parsed models from here.
bundlelint never writes to what it inspects: sources open files read-only and never follow a
symlink.
"""

from __future__ import annotations

import enum
import errno
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO, NamedTuple, TypeVar

from bundlelint.errors import FileSkipped, ParseError
from bundlelint.inputs.dispatch import open_source
from bundlelint.inputs.nested import NestedSkip
from bundlelint.inputs.source import RawEntry, Source
from bundlelint.layout import (
    BundleDir,
    BundleFormat,
    Layout,
    Place,
    find_bundle_dirs,
    place_of,
)
from bundlelint.options import Options
from bundlelint.parsers.appledouble import AppleDouble, parse_appledouble
from bundlelint.parsers.macho import MachOFile, parse_macho, sniff_macho
from bundlelint.parsers.plist import MAX_PLIST_BYTES, InfoPlist, parse_plist
from bundlelint.parsers.volume import NodeKind
from bundlelint.shellquote import ShellWord, quote_path

if TYPE_CHECKING:
    from bundlelint.inputs.zip import ZipMember, ZipReport
    from bundlelint.parsers.diskimage import DiskImageReport
    from bundlelint.parsers.package import PackageVolume

T = TypeVar("T")
METALLIB_MAGIC = b"MTLB"
#: copyfile's ATTR_MAX_SIZE: a larger ``._`` file is not one it wrote, and is not read.
MAX_APPLEDOUBLE_BYTES = 16 * 1024 * 1024


class EntryKind(enum.Enum):
    """What an entry is, judged by content (magic bytes), not by name."""

    DIRECTORY = "directory"
    MACHO = "macho"
    PLIST = "plist"
    METALLIB = "metallib"
    DATA = "data"
    SYMLINK = "symlink"
    SPECIAL = "special"  # FIFO, socket, device: never opened
    UNREADABLE = "unreadable"  # permission denied or an I/O error: reported, never parsed


_MACHO, _METALLIB, _PLIST, _DATA = (EntryKind.MACHO, EntryKind.METALLIB, EntryKind.PLIST,
                                     EntryKind.DATA)
#: The kinds of entry whose bytes are read (and so can be skipped by --max-file-size).
_READ_KINDS = frozenset((_MACHO, _METALLIB, _PLIST, _DATA))
_UNREADABLE, _SYMLINK, _DIRECTORY, _SPECIAL = (EntryKind.UNREADABLE, EntryKind.SYMLINK,
                                               EntryKind.DIRECTORY, EntryKind.SPECIAL)


#: ``tuple.__new__``: builds a named tuple from all its fields without the Python-level
#: ``__new__`` that namedtuple generates (classification makes one per path of the input).
_new_tuple = tuple.__new__


class Entry(NamedTuple):
    """One path of the input, classified (immutable; a named tuple for the same reason as
    :class:`RawEntry`)."""

    relpath: str
    input_name: str  # the input's name (shared by every entry); see ``display``
    kind: EntryKind
    size: int
    mode: int
    place: Place
    symlink_target: str | None = None
    error: str | None = None
    #: For a member of an archive nested in the bundle (a dylib in a .jar): the archive's
    #: relpath. Such entries are code the notary scans, not files of the bundle's seal.
    container: str | None = None

    @property
    def is_executable_file(self) -> bool:
        return bool(self.mode & 0o111) and self.kind not in (EntryKind.DIRECTORY,
                                                             EntryKind.SYMLINK)

    @property
    def display(self) -> str:
        """The path shown to users: the input's name, then relpath (built when asked, not
        stored: an input has tens of thousands of entries and few are ever shown)."""
        return f"{self.input_name}/{self.relpath}" if self.relpath else self.input_name

    @property
    def name(self) -> str:
        return PurePosixPath(self.display).name


class _LayoutTree:
    """The bundle model seen as the layout's :class:`bundlelint.layout.Tree`."""

    def __init__(self, bundle: Bundle) -> None:
        self._bundle = bundle

    def node_kind(self, relpath: str) -> NodeKind | None:
        entry = self._bundle.entry(relpath)
        return None if entry is None else _NODE_KIND.get(entry.kind, NodeKind.FILE)

    def link_target(self, relpath: str) -> str | None:
        entry = self._bundle.entry(relpath)
        return entry.symlink_target if entry is not None and entry.kind is _SYMLINK else None

    def read_info_plist(self, relpath: str) -> InfoPlist | ParseError:
        entry = self._bundle.entry(relpath)
        if entry is None:
            return ParseError("plist", self._bundle.display(relpath), None, "does not exist")
        return self._bundle.plist_file(entry)


_NODE_KIND = {EntryKind.DIRECTORY: NodeKind.DIRECTORY, EntryKind.SYMLINK: NodeKind.SYMLINK,
              EntryKind.SPECIAL: NodeKind.OTHER, EntryKind.UNREADABLE: NodeKind.OTHER}


class Bundle:
    """The parsed view of one input that rules read. Artefacts are parsed on first use."""

    def __init__(self, source: Source, input_path: str | None = None,
                 max_file_size: int | None = None, jobs: int | None = None,
                 observer: Callable[[RawEntry], None] | None = None) -> None:
        self.source = source
        #: Files larger than this are not parsed (a finding says so); None means no limit.
        self.max_file_size = max_file_size
        #: Worker processes for hashing (``--jobs``); None means one per CPU.
        self.jobs = jobs
        self.name = source.name
        #: The input as the user typed it: fix commands name files through it.
        self.input_path = input_path if input_path is not None else source.name
        #: The raw facts of a zip input (``ZipSource``) for the archive rules; else ``None``.
        self.archive: ZipReport | None = getattr(source, "archive", None)
        #: The installer package of a ``.pkg`` input (``parsers.package.PackageVolume``).
        self.package: PackageVolume | None = getattr(source, "package", None)
        self.package_error: ParseError | None = getattr(source, "package_error", None)
        #: The facts of a disk-image input (``inputs.dmg``) for the disk-image rules; else ``None``.
        self.disk_image: DiskImageReport | None = getattr(source, "disk_image", None)
        self._macho_cache: dict[str, MachOFile | ParseError] = {}
        self._memo: dict[tuple[str, str], object] = {}
        self._info_cache: dict[str, InfoPlist | ParseError] = {}  # by the plist's relpath
        raw: list[RawEntry]
        if observer is not None:  # e.g. hashing that starts while the walk goes on
            raw = []
            for item in source.walk():
                observer(item)
                raw.append(item)
        else:
            raw = list(source.walk())
        self.is_single_file = len(raw) == 1 and raw[0].relpath == ""
        #: Archives and containers nested in the input that were not walked, and why
        #: (``inputs.nested``; BL850).
        self.nested_skipped: tuple[NestedSkip, ...] = tuple(
            getattr(source, "nested_skipped", ()))
        #: The input is a disk image or an installer package: its bundles are inside it, its
        #: root is not one.
        self.is_container = source.is_container
        dirs = {r[0] for r in raw if r[1]}  # relpath, is_dir (by index: once per path)
        links = {r[0] for r in raw if r[3]}  # relpath, is_symlink
        self.bundle_dirs = find_bundle_dirs(self.name, dirs, links,
                                            self.is_single_file or self.is_container)
        #: The geometry of the input's bundles: content bases, Info.plists, main executables,
        #: code locations, signing targets (``bundlelint.layout``).
        self.layout = Layout(_LayoutTree(self), self.bundle_dirs, self.is_single_file,
                             self.name)
        self._bundle_dirs_by_path = {bd.relpath: bd for bd in self.bundle_dirs}
        self._place_by_parent: dict[str, Place] = {}
        self.entries: tuple[Entry, ...] = self._classify_all(raw)
        self._by_path = {e[0]: e for e in self.entries}  # by relpath
        self._by_kind: dict[EntryKind, list[Entry]] | None = None
        self._by_parent: dict[str, list[Entry]] | None = None

    # --- structure -------------------------------------------------------------------------

    def shell_path(self, relpath: str) -> ShellWord:
        """``relpath`` as a shell-quoted path through the input the user gave."""
        full = f"{self.input_path}/{relpath}" if relpath else self.input_path
        return quote_path(full)

    def display(self, relpath: str) -> str:
        if not relpath:
            return self.name
        return f"{self.name}/{relpath}"

    def _place(self, relpath: str) -> Place:
        """Where the signer puts ``relpath`` (``bundlelint.layout.place_of`` in its innermost
        bundle; everything of a single-file input is code). The answer depends only on the
        parent directory of ``relpath`` (``_classify_all`` relies on it)."""
        if self.is_single_file:
            return Place.CODE
        return place_of(self.layout.owner_of(relpath), relpath)

    def _classify_all(self, raws: list[RawEntry]) -> tuple[Entry, ...]:
        """The entries for ``raws``: each one's kind by magic (or by what the walk saw) and its
        place. This loop runs once per path of the input, so it keeps to local names, one tuple
        unpacking per path and the place computed once per directory."""
        name = self.name
        bundle_dirs = self._bundle_dirs_by_path
        place_by_parent = self._place_by_parent
        place_at = self._place
        out: list[Entry] = []
        append = out.append
        for raw in raws:
            (relpath, is_dir, is_file, is_symlink, size, mode, target, head, error, container,
             _) = raw
            if is_file and error is None:
                if sniff_macho(head):
                    kind = _MACHO
                elif head.startswith(METALLIB_MAGIC):
                    kind = _METALLIB
                elif head.startswith(b"bplist") or relpath.endswith(".plist"):
                    kind = _PLIST
                else:
                    kind = _DATA
            elif error is not None:
                kind = _UNREADABLE
            elif is_symlink:
                kind = _SYMLINK
            elif is_dir:
                kind = _DIRECTORY
            else:
                kind = _SPECIAL
            # The place of a path that is not itself a bundle depends only on its parent
            # directory: every test in ``_place`` is a prefix test that ends at a "/".
            if relpath in bundle_dirs:
                place = place_at(relpath)
            else:
                parent = relpath.rpartition("/")[0]
                place = place_by_parent.get(parent)  # type: ignore[assignment]
                if place is None:
                    place = place_by_parent[parent] = place_at(relpath)
            append(_new_tuple(Entry, (relpath, name, kind, size, mode, place, target, error,
                                      container)))
        return tuple(out)

    def place_in(self, directory: str) -> Place:
        """Where the signer puts a file directly in ``directory`` (input-relative): the place
        of an entry depends only on its parent (see :meth:`_place`), so this is also the place
        a directory entry has in its parent bundle's seal (a nested bundle's own entry is
        judged by its own rules otherwise)."""
        place = self._place_by_parent.get(directory)
        if place is None:
            place = self._place_by_parent[directory] = self._place(
                f"{directory}/-" if directory else "-")
        return place

    def in_no_bundle(self, relpath: str) -> bool:
        """Whether the entry ``relpath`` sits in a disk image or package (the input, or one
        nested in it) but in none of that container's bundles: beside its apps (the image's
        ``/Applications`` link, an app at its top), where no bundle seals it."""
        entry = self.entry(relpath)
        container = entry.container if entry is not None else None
        owner = self.bundle_dir_of(relpath.rpartition("/")[0])
        if container is not None:
            return not owner.relpath.startswith(container + "/")
        return self.is_container and not owner.relpath

    def bundle_dir_of(self, relpath: str) -> BundleDir:
        """The innermost bundle that contains ``relpath`` (``Layout.owner_of``)."""
        return self.layout.owner_of(relpath)

    def entry(self, relpath: str) -> Entry | None:
        return self._by_path.get(relpath)

    def entries_of(self, kind: EntryKind) -> Iterator[Entry]:
        """The entries of one kind, in walk order (grouped once: many rules ask for the
        Mach-O files of an input of tens of thousands of files)."""
        by_kind = self._by_kind
        if by_kind is None:
            by_kind = self._by_kind = {}
            for e in self.entries:
                by_kind.setdefault(e.kind, []).append(e)
        return iter(by_kind.get(kind, ()))

    def children(self, directory: str) -> list[Entry]:
        """Direct children of ``directory`` (input-relative), in walk order, from an index
        built on first use (asked for every framework and bundle root: a scan of the whole
        input per call made 50 frameworks in 20,000 files cost more than the walk)."""
        by_parent = self._by_parent
        if by_parent is None:
            by_parent = self._by_parent = {}
            for e in self.entries:
                if e.relpath:
                    by_parent.setdefault(e.relpath.rpartition("/")[0], []).append(e)
        return list(by_parent.get(directory, ()))

    @property
    def root_bundle(self) -> BundleDir | None:
        """The input itself as a bundle; ``None`` for a single file or a container."""
        if not self.bundle_dirs or self.is_single_file or self.is_container:
            return None
        return self.bundle_dirs[0]

    # --- parsed artefacts ------------------------------------------------------------------

    def skipped(self, entry: Entry) -> bool:
        """Whether ``entry`` is a file over ``--max-file-size``: nothing reads it, for any
        purpose (parsing, page or seal hashing, special slots); BL008 reports it instead."""
        limit = self.max_file_size
        return limit is not None and entry.size > limit and entry.kind in _READ_KINDS

    def skip_error(self, entry: Entry) -> FileSkipped | None:
        """The ``FileSkipped`` that stands for ``entry``'s model if it is skipped, else None."""
        if self.max_file_size is None or not self.skipped(entry):
            return None
        return FileSkipped(entry.display, entry.size, self.max_file_size)

    def skipped_entries(self) -> Iterator[Entry]:
        """Every file of the input that :meth:`skipped` says is not read."""
        if self.max_file_size is None:
            return iter(())
        return (e for e in self.entries if self.skipped(e))

    def open_entry(self, entry: Entry) -> BinaryIO:
        """Open a regular file of the input for reading (analysis code only; rules read models).

        Symlinks, directories and special files are refused: bundlelint never follows a link
        out of the input and never opens a FIFO or device. A file over ``--max-file-size`` is
        refused too (callers check :meth:`skipped` first; this is the backstop).
        """
        if entry.kind in (EntryKind.SYMLINK, EntryKind.DIRECTORY, EntryKind.SPECIAL,
                          EntryKind.UNREADABLE):
            raise OSError(f"{entry.display} is a {entry.kind.value}, not a regular file")
        if self.skipped(entry):
            raise OSError(errno.EFBIG, f"{entry.display} is over --max-file-size: not read")
        return self.source.open(entry.relpath)

    def memo(self, namespace: str, key: str, compute: Callable[[], T]) -> T:
        """Compute a derived artefact once per input (e.g. namespace "codehash", key a relpath).

        Analysis modules use this so that a file is hashed or parsed once however many rules
        ask for it.
        """
        slot = (namespace, key)
        if slot not in self._memo:
            self._memo[slot] = compute()
        return self._memo[slot]  # type: ignore[return-value]

    def remember(self, namespace: str, key: str, value: object) -> None:
        """Store ``value`` as :meth:`memo` would have computed it (work started elsewhere)."""
        self._memo.setdefault((namespace, key), value)

    def memoised(self, namespace: str, key: str) -> bool:
        """Whether :meth:`memo` already holds ``(namespace, key)``."""
        return (namespace, key) in self._memo

    def macho(self, entry: Entry) -> MachOFile:
        """The parsed Mach-O of ``entry``; raises ``ParseError`` (cached) if it is malformed."""
        result = self._macho_cache.get(entry.relpath)
        if result is None:
            result = self.skip_error(entry)
            if result is not None:
                self._macho_cache[entry.relpath] = result
        if result is None:
            try:
                with self.source.open(entry.relpath) as fh:
                    result = parse_macho(fh, entry.size, entry.display)
            except ParseError as err:
                result = err
            except OSError as err:
                result = ParseError("Mach-O", entry.display, None, f"cannot read: {err.strerror}")
            self._macho_cache[entry.relpath] = result
        if isinstance(result, ParseError):
            raise result
        return result

    def appledouble(self, member: ZipMember) -> AppleDouble:
        """The parsed AppleDouble file of a zip input's ``._name`` member; raises
        ``ParseError`` (remembered) if it is malformed, unreadable or over
        ``MAX_APPLEDOUBLE_BYTES`` (then it is not read at all)."""
        def parse() -> AppleDouble | ParseError:
            shown = self.archive.path_of(member.name) if self.archive else member.name
            if member.file_size > MAX_APPLEDOUBLE_BYTES:
                return ParseError("AppleDouble", shown, None,
                                  f"{member.file_size} bytes is over the "
                                  f"{MAX_APPLEDOUBLE_BYTES} byte limit for an AppleDouble "
                                  "file: not read")
            open_member = getattr(self.source, "open_member", None)
            if open_member is None:
                return ParseError("AppleDouble", shown, None, "not a member of a zip input")
            try:
                with open_member(member) as fh:
                    data = fh.read(MAX_APPLEDOUBLE_BYTES + 1)
                return parse_appledouble(data, shown)
            except ParseError as err:
                return err
            except OSError as err:
                return ParseError("AppleDouble", shown, None,
                                  f"cannot read: {err.strerror or err}")

        result: AppleDouble | ParseError = self.memo(
            "appledouble", f"{member.header_offset}:{member.name}", parse)
        if isinstance(result, ParseError):
            raise result
        return result

    @cached_property
    def framework_copies(self) -> frozenset[str]:
        """Relpaths of entries that stand where a versioned bundle (a framework, as
        ``bundlelint.layout`` tells) needs a symlink: a ``Versions/Current`` that is not a link,
        and anything at the bundle's root other than ``Versions``, ``.DS_Store`` and
        ``module.map`` that is not a link (what Security's
        ``BundleDiskRep::validateFrameworkRoot`` allows there; the copies are what ``zip -r``
        without ``-y`` leaves: copies of the current version). Checks judge the bundle through
        its real version directory (its content base), so each defect is reported once, not
        once per copy (BL012 reports the copies themselves)."""
        copies: set[str] = set()
        for bd in self.bundle_dirs:
            if bd.format is not BundleFormat.VERSIONED:
                continue
            root = bd.prefix
            current = self.entry(root + "Versions/Current")
            if current is not None and current.kind is not EntryKind.SYMLINK:
                copies.add(current.relpath)
            for child in self.children(bd.relpath):
                name = child.relpath[len(root):].lower()
                if child.kind is not EntryKind.SYMLINK and name not in (
                        "versions", ".ds_store", "module.map"):
                    copies.add(child.relpath)
        return frozenset(copies)

    def in_framework_copy(self, relpath: str) -> bool:
        """Whether ``relpath`` is, or is inside, one of :attr:`framework_copies`."""
        copies = self.framework_copies
        if not copies:
            return False
        path = relpath
        while path:
            if path in copies:
                return True
            path = path.rpartition("/")[0]
        return False

    def macho_results(self) -> Iterator[tuple[Entry, MachOFile | ParseError]]:
        """Every Mach-O entry with its parse result, failures included (but not the copies a
        flattened framework holds of its own binaries: see :attr:`framework_copies`)."""
        for entry in self.entries_of(EntryKind.MACHO):
            if self.in_framework_copy(entry.relpath):
                continue
            try:
                yield entry, self.macho(entry)
            except ParseError as err:
                yield entry, err

    def machos(self) -> Iterator[tuple[Entry, MachOFile]]:
        """Every Mach-O entry that parsed (failures are reported by their own rule)."""
        for entry, result in self.macho_results():
            if isinstance(result, MachOFile):
                yield entry, result

    def info_plist(self, bundle_dir: BundleDir) -> InfoPlist | None:
        """The bundle's Info.plist; ``None`` if absent; raises ``ParseError`` if malformed."""
        entry = self.info_plist_entry(bundle_dir)
        if entry is None:
            return None
        result = self.plist_file(entry)
        if isinstance(result, ParseError):
            raise result
        return result

    def valid_info_plist(self, bundle_dir: BundleDir) -> InfoPlist | None:
        """The bundle's Info.plist, or ``None`` when it is absent or malformed (rules that
        need it stay quiet then: BL401/BL402 report those cases)."""
        try:
            return self.info_plist(bundle_dir)
        except ParseError:
            return None

    def innermost_app(self, relpath: str) -> BundleDir | None:
        """The innermost app-like bundle (.app, .appex, .xpc) containing ``relpath``."""
        return self.layout.innermost_app(relpath)

    def content_base(self, bundle_dir: BundleDir) -> str:
        """Input-relative prefix of ``bundle_dir``'s content (``Layout.content_base``)."""
        return self.layout.content_base(bundle_dir)

    def info_plist_entry(self, bundle_dir: BundleDir) -> Entry | None:
        """The entry of the Info.plist CFBundle reads for ``bundle_dir``
        (``Layout.info_plist_path``), if anything but a directory is there."""
        path = self.layout.info_plist_path(bundle_dir)
        return None if path is None else self.entry(path)

    def plist_file(self, entry: Entry) -> InfoPlist | ParseError:
        """``entry`` parsed as an Info.plist (a dictionary at the top), or why it cannot be;
        read and parsed once per file however many bundles and analyses ask."""
        cached = self._info_cache.get(entry.relpath)
        if cached is None:
            cached = self._info_cache[entry.relpath] = self._load_plist_file(entry)
        return cached

    def _load_plist_file(self, entry: Entry) -> InfoPlist | ParseError:
        if entry.kind is EntryKind.SYMLINK or entry.kind is EntryKind.SPECIAL:
            return ParseError("plist", entry.display, None, f"is a {entry.kind.value}, not a file")
        skipped = self.skip_error(entry)
        if skipped is not None:
            return skipped
        try:
            with self.source.open(entry.relpath) as fh:
                data = fh.read(MAX_PLIST_BYTES + 1)  # parse_plist refuses anything longer
            doc = parse_plist(data, entry.display)
        except ParseError as err:
            return err
        except OSError as err:
            return ParseError("plist", entry.display, None, f"cannot read: {err.strerror}")
        if not isinstance(doc.value, dict):
            return ParseError("plist", entry.display, None,
                              f"top level is {type(doc.value).__name__}, not a dictionary")
        return InfoPlist(values=doc.value, form=doc.form, lenient=doc.lenient)

    @cached_property
    def main_executable(self) -> Entry | None:
        """The root bundle's main executable (``Layout.main_executable``), or the input itself
        when it is a single file."""
        root = self.root_bundle
        if root is None:
            return self.entries[0] if self.entries and self.is_single_file else None
        path = self.layout.main_executable(root)
        return None if path is None else self.entry(path)


def open_input(path: Path, options: Options | None = None,
               observer: Callable[[RawEntry], None] | None = None) -> Bundle:
    """Build the bundle model for a path given on the command line, through the source
    ``inputs.dispatch.open_source`` picks for it.

    Raises ``FileNotFoundError`` / ``PermissionError`` for inputs that cannot be read at all.
    ``observer`` is shown every raw entry as the walk finds it.
    """
    limit = options.max_file_size if options is not None else None
    jobs = options.jobs if options is not None else None
    source, input_path = open_source(path, options)
    return Bundle(source, input_path, limit, jobs, observer)
