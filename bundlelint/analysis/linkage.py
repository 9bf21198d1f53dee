"""Dylib linkage: every dependency of every Mach-O slice in the input, resolved like dyld would.

Why: a bundle that works on the build machine can fail to launch anywhere else because a
dependency resolves to nothing inside the bundle, points at ``/opt/homebrew``, lacks the
loader's architecture, or is refused by library validation. Rules need each dependency
resolved to an entry of the bundle (or classified as OS / outside / missing) once.

Resolution follows dyld's documented rules (``man dyld``):

* ``@executable_path/`` is the directory of the main executable of the process. For an
  executable that is the file itself; for a dylib or plug-in, the main executable of the
  innermost ``.app``/``.appex``/``.xpc`` around it.
* ``@loader_path/`` is the directory of the image containing the load command.
* ``@rpath/`` is tried against the LC_RPATHs of the loading image and then those of the main
  executable (dyld searches the rpaths of every image in the chain that led to the load; the
  main executable is the root of every chain). An LC_RPATH may itself start with
  ``@loader_path`` (the image that holds the LC_RPATH) or ``@executable_path``.
* An absolute path under ``/System/`` or ``/usr/lib/`` is the OS's (often only in the dyld
  shared cache, so it cannot be checked here); any other absolute path is on the build
  machine only.

Symlinks inside the bundle are followed (``Versions/Current``), never out of it. A single
Mach-O given on its own has no bundle to resolve into, so its relative dependencies are not
judged.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, replace

from bundlelint.bundle import Bundle, Entry, EntryKind
from bundlelint.errors import ParseError
from bundlelint.parsers.macho import MH_EXECUTE, DylibReference, MachOFile, Slice

SYSTEM_PREFIXES = ("/System/", "/usr/lib/")
MAX_SYMLINK_HOPS = 32
DISABLE_LIBRARY_VALIDATION = "com.apple.security.cs.disable-library-validation"
CS_LIBRARY_VALIDATION = 0x2000
CS_RUNTIME = 0x10000


@dataclass(frozen=True)
class Dependency:
    """One dylib load command of one slice, resolved.

    ``status``: ``bundle`` (``target`` is the entry it resolves to), ``system`` (an OS path),
    ``outside-os`` (an absolute path elsewhere), ``missing`` (resolves to nothing in the
    bundle), ``not-macho`` (resolves to a file that is not Mach-O), ``unresolved`` (cannot be
    judged here: a relative path, or a lone file without a bundle).
    ``main`` is the main executable of the process the loader runs in (``None`` when the input
    has none, e.g. a lone framework): the process, not the loader, owns properties such as
    library validation.
    """

    loader: Entry
    loader_slice: Slice
    ref: DylibReference
    status: str
    target: Entry | None = None
    tried: tuple[str, ...] = ()
    main: Entry | None = None

    @property
    def is_weak(self) -> bool:
        return self.ref.kind == "weak"


def is_system_path(path: str) -> bool:
    return path.startswith(SYSTEM_PREFIXES)


def lookup(bundle: Bundle, relpath: str) -> Entry | None:
    """The entry at input-relative ``relpath``, following symlinks that stay in the input."""
    parts = [p for p in relpath.split("/") if p]
    current = ""
    hops = 0
    i = 0
    while i < len(parts):
        candidate = f"{current}/{parts[i]}" if current else parts[i]
        entry = bundle.entry(candidate)
        if entry is None:
            return None
        if entry.kind is EntryKind.SYMLINK:
            hops += 1
            target = entry.symlink_target or ""
            if hops > MAX_SYMLINK_HOPS or target.startswith("/"):
                return None
            joined = _inside(posixpath.join(current, target))
            if joined is None:
                return None
            parts = [p for p in joined.split("/") if p] + parts[i + 1 :]
            current = ""
            i = 0
            continue
        current = candidate
        i += 1
    return bundle.entry(current) if current else None


def _inside(path: str) -> str | None:
    """``path`` normalised, or None if it leaves the input."""
    norm = posixpath.normpath(path) if path else "."
    if norm == ".." or norm.startswith("../") or norm.startswith("/"):
        return None
    return "" if norm == "." else norm


def _dirname(relpath: str) -> str:
    return posixpath.dirname(relpath)


def main_executable_for(bundle: Bundle, entry: Entry, macho: MachOFile) -> Entry | None:
    """The main executable whose directory ``@executable_path`` means for ``entry``."""
    if macho.slices and macho.slices[0].filetype == MH_EXECUTE:
        return entry
    best = bundle.innermost_app(entry.relpath)
    main = bundle.layout.main_executable(best) if best is not None else None
    return None if main is None else lookup(bundle, main)


def slice_for_arch(macho: MachOFile, arch: str) -> Slice | None:
    """The slice of ``macho`` a process of architecture ``arch`` would load."""
    for sl in macho.slices:
        if sl.arch == arch:
            return sl
    if arch == "x86_64h":
        return slice_for_arch(macho, "x86_64")
    return None


def _expand(path: str, loader_dir: str, exec_dir: str | None) -> str | None:
    """``path`` with a leading @loader_path/@executable_path replaced (input-relative), the
    absolute path itself, or None if it cannot be placed."""
    for token, base in (("@loader_path", loader_dir), ("@executable_path", exec_dir)):
        if path == token or path.startswith(token + "/"):
            if base is None:
                return None
            rest = path[len(token) + 1 :]
            joined = _inside(posixpath.join(base, rest) if rest else base)
            return None if joined is None else joined
    if path.startswith("/"):
        return path
    return None


def _rpaths(bundle: Bundle, loader: Entry, sl: Slice, main: Entry | None
            ) -> list[tuple[str, str | None]]:
    """(LC_RPATH as written, its expansion) for the loader, then for the main executable."""
    out: list[tuple[str, str | None]] = []
    exec_dir = _dirname(main.relpath) if main else None
    for rp in sl.rpaths:
        out.append((rp, _expand(rp, _dirname(loader.relpath), exec_dir)))
    if main is not None and main.relpath != loader.relpath:
        try:
            main_macho = bundle.macho(main)
        except ParseError:
            return out
        main_slice = slice_for_arch(main_macho, sl.arch)
        for rp in main_slice.rpaths if main_slice else ():
            out.append((rp, _expand(rp, exec_dir or "", exec_dir)))
    return out


def _resolve(bundle: Bundle, loader: Entry, sl: Slice, ref: DylibReference,
             main: Entry | None) -> Dependency:
    path = ref.path
    loader_dir = _dirname(loader.relpath)
    exec_dir = _dirname(main.relpath) if main else None

    def found(rel: str, tried: list[str]) -> Dependency | None:
        tried.append(rel)
        target = lookup(bundle, rel)
        if target is None:
            return None
        status = "bundle" if target.kind is EntryKind.MACHO else "not-macho"
        return Dependency(loader, sl, ref, status, target, tuple(tried))

    if path.startswith("/"):
        status = "system" if is_system_path(path) else "outside-os"
        return Dependency(loader, sl, ref, status)
    if bundle.is_single_file or not path.startswith("@"):
        return Dependency(loader, sl, ref, "unresolved")
    tried: list[str] = []
    if path.startswith("@rpath/"):
        suffix = path[len("@rpath/") :]
        system_rpath = False
        for _written, expanded in _rpaths(bundle, loader, sl, main):
            if expanded is None:
                continue
            if expanded.startswith("/"):
                system_rpath = system_rpath or is_system_path(expanded)
                continue
            rel = _inside(posixpath.join(expanded, suffix))
            if rel is not None and (dep := found(rel, tried)) is not None:
                return dep
        status = "system" if system_rpath else "missing"
        return Dependency(loader, sl, ref, status, None, tuple(tried))
    expanded = _expand(path, loader_dir, exec_dir)
    if expanded is None or expanded.startswith("/"):
        return Dependency(loader, sl, ref, "unresolved" if expanded is None else "missing")
    dep = found(expanded, tried)
    return dep or Dependency(loader, sl, ref, "missing", None, tuple(tried))


def linkage(bundle: Bundle) -> tuple[Dependency, ...]:
    """Every dylib dependency of every slice of every readable Mach-O in the input."""

    def compute() -> tuple[Dependency, ...]:
        deps: list[Dependency] = []
        for entry, macho in bundle.machos():
            main = main_executable_for(bundle, entry, macho)
            for sl in macho.slices:
                for ref in sl.dylibs:
                    deps.append(replace(_resolve(bundle, entry, sl, ref, main), main=main))
        return tuple(deps)

    return bundle.memo("linkage", "", compute)


def bundled(bundle: Bundle) -> Iterator[tuple[Dependency, MachOFile, Slice | None]]:
    """Dependencies that resolve to a Mach-O in the bundle, with the target file and the slice
    the loader's architecture would load (None if the target lacks it)."""
    for dep in linkage(bundle):
        if dep.status != "bundle" or dep.target is None:
            continue
        try:
            target = bundle.macho(dep.target)
        except ParseError:
            continue
        yield dep, target, slice_for_arch(target, dep.loader_slice.arch)


def library_validation(sl: Slice) -> bool:
    """Whether a process whose main executable slice is ``sl`` runs with library validation.

    The process, not the loading image, is what library validation judges: dyld asks the
    kernel with ``fcntl(F_CHECK_LV)`` before mapping any image (dyld ``Loader::mapSegments``,
    whose error reads "not valid for use in process"), and the kernel compares the image with
    the process's code-signing flags and Team ID, which come from the main executable
    (``CS_REQUIRE_LV``, set by the hardened runtime unless the main executable has the
    disable-library-validation entitlement; dyld ``MachOAnalyzer::usesLibraryValidation``
    reads the same flag). A dylib's own flags and entitlements change nothing. Gatekeeper
    reads the same state to decide how closely it checks load commands (see the structure
    rules' dangling load commands).
    """
    sig = sl.signature
    cd = sig.primary if sig else None
    if sig is None or cd is None or not cd.flags & (CS_RUNTIME | CS_LIBRARY_VALIDATION):
        return False
    ents = sig.entitlements.values if sig.entitlements else None
    return not (ents and ents.get(DISABLE_LIBRARY_VALIDATION) is True)


def process_slice(bundle: Bundle, main: Entry | None, loader: Entry, loader_slice: Slice
                  ) -> Slice | None:
    """The slice of ``main`` (the main executable of the process ``loader`` runs in) that a
    process of ``loader_slice``'s architecture runs; None when there is no such process."""
    if main is None:
        return None
    if main.relpath == loader.relpath:
        return loader_slice
    try:
        return slice_for_arch(bundle.macho(main), loader_slice.arch)
    except ParseError:
        return None
