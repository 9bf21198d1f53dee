"""BL103-BL107: dylib linkage, resolved by ``bundlelint.analysis.linkage``.

Every finding names the loading file and architecture, the load command's path, and the file
(and architectures) it resolves to, because the fix is at one end or the other.

Decisions:

* A weak dependency (LC_LOAD_WEAK_DYLIB) that is missing, or that points outside the OS, is not
  reported: dyld binds its symbols to NULL and the process runs, which is what weak means.
* The minimum-OS comparison with LSMinimumSystemVersion is BL407's (it checks every binary
  in the bundle). BL106 compares a dylib with the minos of the image that loads it, and only
  where no LSMinimumSystemVersion governs the loader (a bare executable, a bundle without one),
  so the same fact is never reported twice.
"""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.analysis.linkage import (
    Dependency,
    bundled,
    library_validation,
    linkage,
    process_slice,
)
from bundlelint.bundle import Bundle, Entry
from bundlelint.findings import Applicability, Finding
from bundlelint.layout import APP_LIKE_EXTENSIONS
from bundlelint.parsers.macho import PLATFORM_MACOS, Slice, Version
from bundlelint.rules._commands import codesign_command
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, doc, rule, source


def _rel(bundle: Bundle, entry: Entry) -> str:
    """A path inside the input, as messages show it (the input's own name for a lone file)."""
    return entry.relpath or bundle.name


def _edge(bundle: Bundle, loader: Entry, arch: str, ref: str, target: Entry | None = None,
          target_archs: tuple[str, ...] | None = None) -> str:
    text = f"{_rel(bundle, loader)} [{arch}] loads {ref}"
    if target is not None:
        text += f" → {_rel(bundle, target)}"
        if target_archs is not None:
            text += f" [{', '.join(target_archs)}]"
    return text


@rule(
    RuleMeta(
        id="BL103",
        slug="dylib-not-found",
        consequence=Consequence.CANNOT_START,
        evidence=(
            source(
                "dyld",
                "dyld/JustInTimeLoader.cpp",
                "JustInTimeLoader::loadDependents",
                "a non-weak dependency that is not found stops the launch with 'Library not "
                "loaded'",
            ),
        ),
        summary="A dylib dependency resolves to nothing inside the bundle",
        what=(
            "Resolves every @rpath/, @executable_path/ and @loader_path/ dependency of every "
            "slice through the loader's and the main executable's LC_RPATHs to a file inside "
            "the bundle, and reports non-weak ones that find no Mach-O there."
        ),
        why=(
            "dyld stops the process at launch with 'Library not loaded' when a non-weak "
            "dependency is missing. It usually means a library was not copied into the bundle, "
            "or an rpath points at the wrong directory."
        ),
        how_to_fix=(
            "Copy the library into Contents/Frameworks (and sign it), or fix the load command "
            "or the rpath with install_name_tool, then re-sign the changed files inside-out."
        ),
        fix_command="install_name_tool -add_rpath @executable_path/../Frameworks {loader}",
        fix_applicability=Applicability.DISPLAY,
    )
)
def dylib_not_found(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    # One cause, one finding: the same reference missing from several slices of one file is
    # reported once, naming every architecture (``arch`` is set only when there is one).
    groups: dict[tuple[str, str, str], list[Dependency]] = {}
    for dep in linkage(bundle):
        if dep.is_weak or dep.status not in ("missing", "not-macho"):
            continue
        if dep.status == "not-macho" and dep.target is not None:
            detail = f"{_rel(bundle, dep.target)}, which is not a Mach-O file"
        elif dep.tried:
            detail = f"nothing in the bundle (tried {', '.join(dep.tried)})"
        else:
            detail = "nothing in the bundle (no LC_RPATH leads into it)"
        groups.setdefault((dep.loader.relpath, dep.ref.path, detail), []).append(dep)
    for (_loader, ref, detail), deps in groups.items():
        dep = deps[0]
        archs = [d.loader_slice.arch for d in deps]
        yield ctx.finding(
            path=dep.loader.display,
            arch=archs[0] if len(archs) == 1 else None,
            message=f"{_rel(bundle, dep.loader)} [{', '.join(archs)}] loads {ref}, which "
            f"resolves to {detail}",
            evidence={"reference": ref, "kind": dep.ref.kind, "archs": ",".join(archs),
                      "rpaths": ",".join(dep.loader_slice.rpaths)},
            loader=bundle.shell_path(dep.loader.relpath),
        )


@rule(
    RuleMeta(
        id="BL104",
        slug="dylib-outside-os",
        consequence=Consequence.CANNOT_START,
        evidence=(
            source(
                "dyld",
                "dyld/JustInTimeLoader.cpp",
                "JustInTimeLoader::loadDependents",
                "a non-weak dependency at a path the user's Mac lacks stops the launch with "
                "'Library not loaded'",
            ),
        ),
        summary="A dylib dependency is an absolute path outside the OS",
        what=(
            "Reports non-weak dylib load commands with an absolute path that is not under "
            "/System/ or /usr/lib/ (for example /usr/local, /opt/homebrew or /Users/...)."
        ),
        why=(
            "Such a library exists on the build machine only: on a user's Mac dyld fails with "
            "'Library not loaded' unless they happen to have the same Homebrew setup."
        ),
        how_to_fix=(
            "Bundle the library in Contents/Frameworks and point the load command at it "
            "(`install_name_tool -change`), or link it statically; then re-sign inside-out. "
            "Tools such as dylibbundler automate this."
        ),
        fix_command="install_name_tool -change {reference} @rpath/{name} {loader}",
        fix_applicability=Applicability.DISPLAY,
    )
)
def dylib_outside_os(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    groups: dict[tuple[str, str], list[Dependency]] = {}  # one finding per file and path
    for dep in linkage(bundle):
        if dep.is_weak or dep.status != "outside-os":
            continue
        groups.setdefault((dep.loader.relpath, dep.ref.path), []).append(dep)
    for (_loader, ref), deps in groups.items():
        dep = deps[0]
        archs = [d.loader_slice.arch for d in deps]
        yield ctx.finding(
            path=dep.loader.display,
            arch=archs[0] if len(archs) == 1 else None,
            message=f"{_rel(bundle, dep.loader)} [{', '.join(archs)}] loads {ref}, an "
            "absolute path outside /System and /usr/lib that exists only on the build machine",
            evidence={"reference": ref, "kind": dep.ref.kind, "archs": ",".join(archs)},
            reference=ref,
            name=ref.rsplit("/", 1)[-1],
            loader=bundle.shell_path(dep.loader.relpath),
        )


@rule(
    RuleMeta(
        id="BL105",
        slug="dylib-arch-missing",
        consequence=Consequence.CANNOT_START,
        evidence=(
            source(
                "dyld",
                "common/MachOFile.cpp",
                "MachOFile::compatibleSlice",
                "a library without a slice for the process's architecture fails with 'mach-o "
                "file, but is an incompatible architecture'",
            ),
        ),
        summary="A bundled dylib lacks the architecture of the slice that loads it",
        what=(
            "For each dependency that resolves to a Mach-O inside the bundle, checks that the "
            "library has a slice for the loading slice's architecture."
        ),
        why=(
            "dyld loads the library slice matching the process; if there is none it fails "
            "with 'incompatible architecture' and the app does not launch on that kind of Mac."
        ),
        how_to_fix=(
            "Build the library for every architecture of the app and merge with lipo, then "
            "re-sign it."
        ),
        fix_command="lipo -create libfoo-arm64.dylib libfoo-x86_64.dylib -output {target}",
        fix_applicability=Applicability.DISPLAY,
    )
)
def dylib_arch_missing(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for dep, target, target_slice in bundled(bundle):
        if target_slice is not None or dep.target is None:
            continue
        arch = dep.loader_slice.arch
        have = target.arch_names
        only = "only " if len(have) == 1 else ""
        yield ctx.finding(
            path=dep.loader.display,
            arch=arch,
            message=f"{_edge(bundle, dep.loader, arch, dep.ref.path, dep.target)}, which has "
            f"{only}{', '.join(have)}",
            evidence={"reference": dep.ref.path, "target": dep.target.relpath,
                      "target_archs": ",".join(have)},
            target=bundle.shell_path(dep.target.relpath),
        )


def _governed_by_plist(bundle: Bundle, loader: Entry) -> bool:
    """Whether an app-like bundle around ``loader`` declares LSMinimumSystemVersion."""
    for bd in bundle.bundle_dirs:
        inside = not bd.relpath or loader.relpath.startswith(bd.relpath + "/")
        if not inside or bd.extension not in APP_LIKE_EXTENSIONS:
            continue
        info = bundle.valid_info_plist(bd)
        if info is not None and info.minimum_system_version is not None:
            return True
    return False


def _macos_minos(sl: Slice) -> Version | None:
    bv = sl.macos_build_version
    return bv.minos if bv is not None and bv.platform == PLATFORM_MACOS else None


@rule(
    RuleMeta(
        id="BL106",
        slug="dylib-minos-newer",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            source(
                "dyld",
                "dyld/Loader.cpp",
                "Loader::resolveSymbol / Loader::tooNewErrorAddendum",
                "dyld has no minimum-OS gate for libraries: a library built for a newer macOS "
                "loads, and only a missing symbol fails ('Symbol not found', with 'built for "
                "... which is newer than running OS' added)",
            ),
        ),
        summary="A bundled dylib needs a newer macOS than the code that loads it",
        what=(
            "Compares the minos of each bundled dylib slice with the minos of the slice that "
            "loads it, where no LSMinimumSystemVersion governs the loader (BL407 compares "
            "every binary with LSMinimumSystemVersion)."
        ),
        why=(
            "dyld has no minimum-OS gate for libraries: on a macOS between the two minimums the "
            "library loads, and the process fails only when it calls something the older OS "
            "lacks ('Symbol not found'). It may never happen, so this is a warning."
        ),
        how_to_fix=(
            "Rebuild the library for the loader's deployment target "
            "(MACOSX_DEPLOYMENT_TARGET / -mmacosx-version-min), or raise the loader's."
        ),
        fix_command="MACOSX_DEPLOYMENT_TARGET={minos} make  # rebuild {target}",
        fix_applicability=Applicability.DISPLAY,
    )
)
def dylib_minos_newer(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for dep, _target, target_slice in bundled(bundle):
        if target_slice is None or dep.target is None:
            continue
        loader_minos = _macos_minos(dep.loader_slice)
        lib_minos = _macos_minos(target_slice)
        if loader_minos is None or lib_minos is None or lib_minos <= loader_minos:
            continue
        if _governed_by_plist(bundle, dep.loader):
            continue
        arch = dep.loader_slice.arch
        edge = _edge(bundle, dep.loader, arch, dep.ref.path, dep.target, (target_slice.arch,))
        yield ctx.finding(
            path=dep.loader.display,
            arch=arch,
            message=f"{edge}, which needs macOS {lib_minos} while the loader's minimum is "
            f"{loader_minos}",
            evidence={"loader_minos": loader_minos, "dylib_minos": lib_minos,
                      "target": dep.target.relpath},
            minos=str(loader_minos),
            target=bundle.shell_path(dep.target.relpath),
        )


def _library_validation(sl: Slice) -> tuple[bool, str | None]:
    """(whether library validation applies to a process whose main executable slice is
    ``sl``, the process's Team ID): ``analysis.linkage.library_validation``, for a signature
    that has a Team ID to compare with."""
    sig = sl.signature
    cd = sig.primary if sig else None
    if cd is None or not cd.team_id:
        return False, None
    return library_validation(sl), cd.team_id


def _process_slice(bundle: Bundle, dep: Dependency) -> Slice | None:
    """The main executable's slice of the process ``dep``'s loader runs in."""
    return process_slice(bundle, dep.main, dep.loader, dep.loader_slice)


def _describe_signer(sl: Slice) -> str:
    sig = sl.signature
    cd = sig.primary if sig else None
    if sl.code_signature is None or sig is None or cd is None:
        return "is unsigned"
    if not cd.team_id:
        return f"is signed {sig.kind} with no Team ID"
    return f"is signed by Team ID {cd.team_id}"


@rule(
    RuleMeta(
        id="BL107",
        slug="library-validation-mismatch",
        consequence=Consequence.CANNOT_START,
        evidence=(
            source(
                "dyld",
                "dyld/Loader.cpp",
                "Loader::mapSegments",
                "a library the kernel refuses under library validation fails with 'code "
                "signature in ... not valid for use in process'",
            ),
            doc(
                "https://developer.apple.com/documentation/bundleresources/entitlements/com.apple.security.cs.disable-library-validation",
                "under the hardened runtime, library validation loads only code signed by Apple "
                "or by the same team as the process's main executable",
            ),
        ),
        summary="Library validation will refuse a bundled dylib: unsigned or another Team ID",
        what=(
            "For a process whose main executable is signed with the hardened runtime (or the "
            "library-validation flag) and lacks the disable-library-validation entitlement, "
            "checks that every bundled dylib slice loaded into it, by the main executable or "
            "by another library, is signed with the main executable's Team ID. The loading "
            "library's own flags do not matter: the process decides."
        ),
        why=(
            "Under library validation dyld loads only libraries signed by Apple or by the "
            "team of the process's main executable; anything else fails with 'code signature "
            "... not valid for use in process: mapping process and mapped file "
            "(non-platform) have different Team IDs'."
        ),
        how_to_fix=(
            "Sign the library with the same Developer ID as the app (inside-out, before the "
            "app). Only if it must keep a third party's signature, add "
            "com.apple.security.cs.disable-library-validation to the app's entitlements."
        ),
        fix_applicability=Applicability.UNSAFE,
    )
)
def library_validation_mismatch(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for dep, _target, target_slice in bundled(bundle):
        if target_slice is None or dep.target is None or dep.main is None:
            continue  # no main executable in the input: the process is unknown
        process = _process_slice(bundle, dep)
        if process is None:
            continue
        applies, team = _library_validation(process)
        if not applies:
            continue
        lib_sig = target_slice.signature
        lib_cd = lib_sig.primary if lib_sig else None
        if lib_cd is not None and lib_cd.team_id == team:
            continue
        arch = dep.loader_slice.arch
        edge = _edge(bundle, dep.loader, arch, dep.ref.path, dep.target, (target_slice.arch,))
        if dep.main.relpath == dep.loader.relpath:
            who = "the loader"
        else:
            who = f"the process's main executable {_rel(bundle, dep.main)}"
        yield ctx.finding(
            path=dep.loader.display,
            arch=arch,
            message=f"{edge}, which {_describe_signer(target_slice)}; {who} (Team ID "
            f"{team}, library validation on) will refuse it",
            evidence={"process_team": team or "", "main_executable": dep.main.relpath,
                      "dylib_team": (lib_cd.team_id or "") if lib_cd else "",
                      "target": dep.target.relpath},
            command=codesign_command(bundle, dep.target),
        )
