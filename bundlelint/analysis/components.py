"""What went into a bundle, as a format-neutral inventory that ``bundlelint sbom`` writes as
CycloneDX or SPDX.

Why a neutral model: the two formats say the same things in different shapes, and the facts
come from analyses that already exist (Mach-O slices, code directories, the CMS signer, Go
build info, Info.plist). Building them once here keeps the writers dumb and lets a test compare
the two documents with each other.

Components:

* the root: the app (or other bundle) itself, named and versioned by its Info.plist; for a
  single Mach-O input, that file;
* each nested bundle (frameworks, plug-ins, helper apps, XPC services, extensions), versioned by
  ``CFBundleShortVersionString``;
* each Mach-O file: architectures, per slice the cdhashes, signature kind, identifier, Team ID,
  signer and hardened runtime; a dylib's install name and current/compatibility versions from
  ``LC_ID_DYLIB``; the SHA-256 of the whole file;
* each Go module linked into a Go binary (main module and dependencies, as its build info lists
  them), with a ``pkg:golang`` package URL.

Dependencies: the root contains its nested bundles and the Mach-O files outside them, each
nested bundle its own files, and each Go binary its modules. Every string comes from the input
and is passed through ``display.unicode_safe`` so that both JSON writers can encode it.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from bundlelint.analysis.cms import SignatureState, verify_signature
from bundlelint.analysis.golang import go_info
from bundlelint.analysis.hashing import digest_stream
from bundlelint.bundle import Bundle, Entry
from bundlelint.display import unicode_safe
from bundlelint.errors import ParseError
from bundlelint.inputs.safeopen import open_binary
from bundlelint.layout import BundleDir, BundleKind
from bundlelint.options import Options
from bundlelint.parsers.gobuildinfo import GoModule
from bundlelint.parsers.macho import MH_DYLIB, MH_EXECUTE, MachOFile, Slice, Version

#: Namespace of our CycloneDX property names (CycloneDX property taxonomy: a tool's own prefix).
PROPERTY_PREFIX = "bundlelint:"


@dataclass(frozen=True)
class Component:
    """One thing in the bundle. ``ref`` is unique in an inventory and stable across runs."""

    ref: str
    kind: str  # CycloneDX component type: application, framework, library, file
    name: str
    version: str | None = None
    path: str | None = None  # as shown to users (input name first)
    purl: str | None = None
    sha256: str | None = None  # hex digest of the file's bytes
    description: str | None = None
    properties: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Inventory:
    """The root component, the others (sorted by ``ref``), and who contains or links whom."""

    root: Component
    components: tuple[Component, ...]
    dependencies: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())


def _safe(text: str) -> str:
    return unicode_safe(text)


def _props(pairs: Iterable[tuple[str, str | None]]) -> tuple[tuple[str, str], ...]:
    return tuple((PROPERTY_PREFIX + k, _safe(v)) for k, v in pairs if v is not None)


def _version_text(version: Version) -> str:
    return f"{version.major}.{version.minor}.{version.patch}"


# --- Go modules ---------------------------------------------------------------------------


def go_purl(path: str, version: str | None) -> str:
    """``pkg:golang/<module path>@<version>`` (purl spec, golang type: the namespace is the
    path up to its last element, each segment percent-encoded by ``packageurl``)."""
    from packageurl import PackageURL

    namespace, _, name = path.rpartition("/")
    usable = version if version and version != "(devel)" else None
    return str(PackageURL(type="golang", namespace=namespace or None, name=name or path,
                          version=usable))


def _is_directory_replacement(mod: GoModule) -> bool:
    """A ``=> ./dir`` replacement: a directory on the build machine, not a module version."""
    return mod.path.startswith(("./", "../", "/")) or mod.path in (".", "..")


def h1_to_sha256(go_sum: str) -> str | None:
    """The hex SHA-256 inside a go.sum ``h1:`` hash (base64 of the dirhash), else None."""
    if not go_sum.startswith("h1:"):
        return None
    try:
        raw = base64.b64decode(go_sum[3:], validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def _go_component(mod: GoModule, role: str) -> Component:
    """The module that was compiled in: a module-path replacement stands in for the module it
    replaces (its path, version and sum), a directory replacement keeps the original's name."""
    # Code from a directory on the build machine is no published version: no package URL.
    local = mod.replace is not None and _is_directory_replacement(mod.replace)
    built = mod.replace if mod.replace and not local else mod
    version = built.version or None
    props: list[tuple[str, str | None]] = [("go:module_role", role)]
    if built.sum:
        props.append(("go:sum", built.sum))
    if mod.replace is not None:
        props += [("go:replaces", f"{mod.path} {mod.version}".strip()),
                  ("go:replacement", f"{mod.replace.path} {mod.replace.version}".strip())]
    return Component(
        ref=_safe(f"go:{built.path}@{built.version}"),
        kind="application" if role == "main" else "library",
        name=_safe(built.path), version=_safe(version) if version else None,
        purl=None if local else _safe(go_purl(built.path, version)),
        sha256=h1_to_sha256(built.sum) if built.sum else None,
        properties=_props(props),
    )


# --- Mach-O files -------------------------------------------------------------------------


def _slice_properties(bundle: Bundle, entry: Entry, sl: Slice,
                      options: Options) -> list[tuple[str, str | None]]:
    arch = sl.arch
    out: list[tuple[str, str | None]] = []
    bv = sl.macos_build_version
    if bv is not None:
        out.append((f"macho:{arch}:minos", str(bv.minos)))
    sig = sl.signature
    if sig is None or sig.primary is None:
        out.append((f"macho:{arch}:signature", "unsigned" if sl.code_signature is None
                    else "unreadable"))
        return out
    cd = sig.primary
    out += [(f"macho:{arch}:signature", sig.kind),
            (f"macho:{arch}:identifier", cd.identifier),
            (f"macho:{arch}:team_id", cd.team_id),
            (f"macho:{arch}:hardened_runtime", "true" if cd.has_hardened_runtime else "false")]
    for other in sig.code_directories:
        out.append((f"macho:{arch}:cdhash:{other.hash_name}", other.cdhash.hex()))
    cms = verify_signature(bundle, entry, sl, options)
    if cms.state is SignatureState.CERTIFICATE and cms.authority:
        out += [(f"macho:{arch}:signer", cms.authority[0]),
                (f"macho:{arch}:certificate_kind", cms.leaf_kind.value),
                (f"macho:{arch}:certificate_team_id", cms.team_id)]
    return out


def _input_sha256(bundle: Bundle) -> str | None:
    """The SHA-256 of the input when it is one file: the file itself, or the container (disk
    image, package) whose contents are the entries."""
    if bundle.is_single_file and bundle.entries:
        return _file_sha256(bundle, bundle.entries[0])
    try:
        with open_binary(bundle.input_path, follow=True) as fh:
            size = os.fstat(fh.fileno()).st_size
            if bundle.max_file_size is not None and size > bundle.max_file_size:
                return None
            return digest_stream(fh, "sha256").hex()
    except OSError:  # a directory, or unreadable: no digest to give
        return None


def _file_sha256(bundle: Bundle, entry: Entry) -> str | None:
    if bundle.skipped(entry):
        return None
    try:
        with bundle.open_entry(entry) as fh:
            return digest_stream(fh, "sha256").hex()
    except OSError:
        return None


def _macho_component(bundle: Bundle, entry: Entry, macho: MachOFile, options: Options,
                     version: str | None) -> Component:
    first = macho.slices[0]
    kind = {MH_EXECUTE: "application", MH_DYLIB: "library"}.get(first.filetype, "file")
    props: list[tuple[str, str | None]] = [
        ("macho:architectures", " ".join(macho.arch_names)),
        ("macho:filetype", first.filetype_name),
    ]
    id_dylib = next((sl.id_dylib for sl in macho.slices if sl.id_dylib), None)
    if id_dylib is not None:
        kind = "library"
        props += [("macho:install_name", id_dylib.path),
                  ("macho:current_version", _version_text(id_dylib.current_version)),
                  ("macho:compatibility_version",
                   _version_text(id_dylib.compatibility_version))]
        if version is None and id_dylib.current_version.packed:
            version = _version_text(id_dylib.current_version)
    for sl in macho.slices:
        props += _slice_properties(bundle, entry, sl, options)
    return Component(ref=_safe(f"file:{entry.relpath}"), kind=kind,
                     name=_safe(PurePosixPath(entry.display).name), version=_safe(version)
                     if version else None, path=_safe(entry.display),
                     sha256=_file_sha256(bundle, entry), properties=_props(props))


def _unreadable_component(bundle: Bundle, entry: Entry, error: ParseError) -> Component:
    """A file that looks like Mach-O but does not parse: still part of what ships."""
    props = [("macho:error", error.reason),
             ("macho:error_offset", None if error.offset is None else str(error.offset))]
    return Component(ref=_safe(f"file:{entry.relpath}"), kind="file",
                     name=_safe(PurePosixPath(entry.display).name), path=_safe(entry.display),
                     sha256=_file_sha256(bundle, entry), properties=_props(props))


# --- bundles --------------------------------------------------------------------------------

#: CycloneDX component type of each bundle kind (``bundlelint.layout.BundleKind``).
_BUNDLE_TYPES = {BundleKind.APP: "application", BundleKind.LOGIN_ITEM: "application",
                 BundleKind.FRAMEWORK: "framework", BundleKind.APP_EXTENSION: "application",
                 BundleKind.XPC_SERVICE: "application",
                 BundleKind.SYSTEM_EXTENSION: "application"}


def _info_strings(bundle: Bundle, bd: BundleDir) -> dict[str, str]:
    try:
        info = bundle.info_plist(bd)
    except ParseError:
        return {}
    if info is None:
        return {}
    keys = ("CFBundleName", "CFBundleIdentifier", "CFBundleShortVersionString",
            "CFBundleVersion")
    return {k: v for k in keys if (v := info.string(k)) is not None}


def _bundle_component(bundle: Bundle, bd: BundleDir, ref: str) -> Component:
    info = _info_strings(bundle, bd)
    name = info.get("CFBundleName") or PurePosixPath(bd.display).stem or bd.display
    props = [("bundle:kind", bd.kind.value),
             ("bundle:identifier", info.get("CFBundleIdentifier")),
             ("bundle:version", info.get("CFBundleVersion")),
             ("bundle:short_version", info.get("CFBundleShortVersionString"))]
    version = info.get("CFBundleShortVersionString") or info.get("CFBundleVersion")
    return Component(ref=_safe(ref), kind=_BUNDLE_TYPES.get(bd.kind, "library"),
                     name=_safe(name), version=_safe(version) if version else None,
                     path=_safe(bd.display), description=None, properties=_props(props))


def _bundle_ref(bd: BundleDir) -> str:
    return f"bundle:{bd.relpath}"


# --- the inventory --------------------------------------------------------------------------


def inventory(bundle: Bundle, options: Options | None = None) -> Inventory:
    """Every component of ``bundle`` and who contains or links whom (see the module doc)."""
    opts = options or Options()
    components: dict[str, Component] = {}
    deps: dict[str, set[str]] = {}

    root_bd = bundle.root_bundle
    nested = [bd for bd in bundle.bundle_dirs if root_bd is None or bd.relpath != root_bd.relpath]
    # A bundle's version is the main binary's version too (a framework's dylib has its own
    # LC_ID_DYLIB current version, shown as a property).
    main_version: dict[str, str] = {}
    for bd in ([root_bd] if root_bd else []) + nested:
        exe = bundle.layout.main_executable(bd)
        version = _info_strings(bundle, bd).get("CFBundleShortVersionString")
        if exe and version:
            main_version[exe] = version

    if root_bd is not None:
        root = _bundle_component(bundle, root_bd, _bundle_ref(root_bd))
    else:  # a container (.dmg, .pkg) or a file that is no bundle (a bare Mach-O: see below)
        root = Component(ref="input", kind="file", name=_safe(bundle.name),
                         sha256=_input_sha256(bundle))
    for bd in nested:
        comp = _bundle_component(bundle, bd, _bundle_ref(bd))
        components[comp.ref] = comp

    nested_paths = {bd.relpath for bd in nested}

    def owner_ref(relpath: str) -> str:
        """The innermost nested bundle holding ``relpath``, else the subject."""
        if not nested_paths:
            return root.ref
        owner = bundle.bundle_dir_of(relpath)
        return _safe(_bundle_ref(owner)) if owner.relpath in nested_paths else root.ref

    for bd in nested:
        parent = bd.relpath.rpartition("/")[0]
        container = owner_ref(parent) if parent else root.ref
        deps.setdefault(container, set()).add(_safe(_bundle_ref(bd)))

    for entry, result in bundle.macho_results():
        if isinstance(result, ParseError):
            comp = _unreadable_component(bundle, entry, result)
            components[comp.ref] = comp
            deps.setdefault(owner_ref(entry.relpath), set()).add(comp.ref)
            continue
        macho = result
        comp = _macho_component(bundle, entry, macho, opts, main_version.get(entry.relpath))
        if root_bd is None and bundle.is_single_file:
            root = comp  # a bare Mach-O is itself the subject of the document
        else:
            components[comp.ref] = comp
            deps.setdefault(owner_ref(entry.relpath), set()).add(comp.ref)
        for info in go_info(bundle, entry):
            bi = info.build_info if info else None
            if bi is None:
                continue
            linked = deps.setdefault(comp.ref, set())
            mods = ([(bi.main, "main")] if bi.main and bi.main.path else []) + [
                (d, "dependency") for d in bi.deps]
            for mod, role in mods:
                go = _go_component(mod, role)
                components.setdefault(go.ref, go)
                linked.add(go.ref)
    components.pop(root.ref, None)
    known = set(components) | {root.ref}
    dependencies = tuple(
        (ref, tuple(sorted(r for r in refs if r in known and r != ref)))
        for ref, refs in sorted(deps.items()) if ref in known)
    # Every component appears in the graph, leaves with no dependencies of their own.
    listed = {ref for ref, _ in dependencies}
    dependencies += tuple((ref, ()) for ref in sorted(known - listed))
    return Inventory(root=root, components=tuple(sorted(components.values(),
                                                        key=lambda c: c.ref)),
                     dependencies=tuple(sorted(dependencies)))
