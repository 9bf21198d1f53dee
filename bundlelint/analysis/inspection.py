"""What ``codesign -dvvv``, ``-d --entitlements -`` and ``-d -r-`` would show, per file and slice.

Builds plain JSON-ready dictionaries from the parsed models and the other analyses (code-hash,
CMS and seal verification), so ``bundlelint inspect`` has one source for its text and JSON forms.
"""

from __future__ import annotations

import base64
import datetime
from typing import TYPE_CHECKING, Any

from bundlelint.analysis.cms import CmsVerification, SignatureState, verify_signature
from bundlelint.analysis.codehash import CodeVerification, verify_code
from bundlelint.analysis.golang import GoInfo, slice_go_info
from bundlelint.analysis.seal import load_code_resources, nested_cdhashes, verify_seal
from bundlelint.analysis.signing_order import SigningNode, signing_tree
from bundlelint.bundle import Bundle, Entry, EntryKind
from bundlelint.errors import ParseError
from bundlelint.options import Options
from bundlelint.parsers.codesign import CodeDirectory
from bundlelint.parsers.gobuildinfo import GoModule
from bundlelint.parsers.macho import MachOFile, Slice, Version
from bundlelint.parsers.requirements import parse_requirements

if TYPE_CHECKING:
    from bundlelint.analysis.diskimage import ImageSignatureCheck
    from bundlelint.analysis.package import PackageReport
    from bundlelint.analysis.package import SignatureCheck as PackageSignatureCheck
    from bundlelint.analysis.ticket import TicketCheck

#: ``inspect --format json`` output version.
INSPECT_FORMAT_VERSION = 1


def jsonable(value: Any) -> Any:
    """Plist values as JSON: bytes as base64, dates as ISO 8601."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode()}
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def inspect_bundle(bundle: Bundle, options: Options | None = None) -> dict[str, Any]:
    """The whole input: one record per Mach-O file (parse failures included)."""
    opts = options or Options()
    files = []
    for entry, result in bundle.macho_results():
        if isinstance(result, ParseError):
            files.append({"path": entry.display, "error": str(result), "offset": result.offset})
        else:
            files.append(inspect_file(bundle, entry, result, opts))
    from bundlelint.analysis.containers import app_tickets, package_of, package_ticket

    report = package_of(bundle, opts)
    tickets = []
    if report is not None and report.ticket is not None:
        tickets.append(ticket_record(package_ticket(bundle, opts) or report.ticket))
    for app in app_tickets(bundle, opts):
        if app.check is not None:
            tickets.append(ticket_record(app.check))
    from bundlelint.analysis.diskimage import image_ticket

    dmg_ticket = image_ticket(bundle, opts)
    if dmg_ticket is not None:
        tickets.append(ticket_record(dmg_ticket))
    # jsonable: the records hold dates (signing times, timestamps, a ticket's time) and
    # bytes; the document is JSON-ready in one place, whatever a record puts in it.
    document: dict[str, Any] = jsonable({
        "format_version": INSPECT_FORMAT_VERSION, "input": bundle.name,
        "tree": signing_tree_record(bundle, opts),
        "package": None if report is None else package_record(report),
        "disk_image": disk_image_record(bundle, opts),
        "tickets": tickets, "seals": _seals(bundle), "files": files})
    return document


def package_record(report: PackageReport) -> dict[str, Any]:
    """An installer package: archive header, signatures, descriptions, payloads, tail."""
    archive = report.archive
    head = archive.header
    return {
        "path": report.name,
        "xar": {"header_size": head.size, "version": head.version,
                "toc_compressed": head.toc_compressed, "toc_uncompressed": head.toc_uncompressed,
                "checksum": head.checksum_name, "checksum_matches": archive.checksum_matches,
                "creation_time": archive.creation_time},
        "signatures": [{
            "style": s.style, "offset": s.offset, "kind": s.leaf_kind.value,
            "signer": s.leaf_name, "team_id": s.team_id,
            "authority": list(s.chain.names), "chain": s.chain.status.value,
            "anchor": s.chain.anchor_name, "problems": list(s.problems),
            "signing_time": s.signing_time,
            "timestamp": None if s.timestamp is None else s.timestamp.gen_time,
        } for s in report.signatures],
        "distribution": None if report.distribution is None else {
            "min_spec_version": report.distribution.min_spec_version,
            "host_architectures": list(report.distribution.host_architectures),
            "pkg_refs": [{"id": r.id, "version": r.version, "path": r.path}
                         for r in report.distribution.pkg_refs],
            "javascript": report.distribution.has_javascript},
        "components": [{
            "path": c.path,
            "identifier": c.info.identifier if c.info else None,
            "version": c.info.version if c.info else None,
            "install_location": c.info.install_location if c.info else None,
            "payload": c.payload, "scripts": list(c.scripts),
            "bundles": [{"id": b.id, "path": b.path} for b in c.info.bundles] if c.info else [],
        } for c in report.components],
        "damaged": [{"offset": o, "reason": r} for o, r in report.damaged],
        "tail": {"offset": archive.tail_offset, "size": archive.tail_size,
                 "ticket": archive.ticket is not None},
    }


def disk_image_record(bundle: Bundle, options: Options) -> dict[str, Any] | None:
    """A disk image: trailer, chunk kinds, partitions and volumes, and its own signature."""
    from bundlelint.analysis.diskimage import image_signature

    report = bundle.disk_image
    if report is None:
        return None
    image, koly, table = report.image, report.koly, report.partitions
    check = image_signature(bundle, options)
    verification = check.verification if check is not None else None
    return {
        "path": report.name,
        "error": None if report.error is None else {"reason": report.error.reason,
                                                     "offset": report.error.offset},
        "encrypted": report.encrypted,
        "udif": None if koly is None else {
            "version": koly.version, "sectors": koly.sector_count,
            "data_fork": [koly.data_fork_offset, koly.data_fork_length],
            "xml": [koly.xml_offset, koly.xml_length],
            "code_signature": [koly.code_signature_offset, koly.code_signature_length]},
        "chunk_kinds": list(image.chunk_kinds) if image is not None else [],
        "resources": sorted({r.kind for r in image.resources}) if image is not None else [],
        "scheme": table.scheme if table is not None else None,
        "partitions": [{"index": p.index, "name": p.name, "type": p.type_name,
                        "start": p.start, "size": p.size, "filesystem": p.filesystem}
                       for p in (table.partitions if table is not None else ())],
        "volume_problems": [{"reason": v.reason, "offset": v.offset}
                            for v in report.volume_problems],
        "signature": None if check is None else {
            "state": check.state.value, "identifier": check.identifier,
            "team_id": check.cd_team_id, "kind": check.leaf_kind.value,
            "authority": list(verification.authority) if verification else [],
            "chain": (verification.chain.status.value
                      if verification and verification.chain else None),
            "timestamp": (verification.timestamp.gen_time
                          if verification and verification.timestamp else None),
            "developer_id": check.is_developer_id, "problems": list(check.problems)},
    }


def ticket_record(check: TicketCheck) -> dict[str, Any]:
    """A stapled ticket: where, who signed it, when, what it lists, what was verified."""
    ticket = check.ticket
    return {
        "where": check.where, "offset": check.offset,
        "error": None if check.parse_error is None else check.parse_error.reason,
        "time": ticket.time if ticket else None,
        "signer": list(check.chain.names) if check.chain else [],
        "anchor": check.chain.anchor_name if check.chain else None,
        "signature_problem": check.signature_problem,
        "trusted": check.trusted,
        "flags": ticket.flags if ticket else None,
        "hashes": [{"type": h.type_name, "hash": h.digest.hex()}
                   for h in (ticket.hashes if ticket else ())],
        "lists_artifact": None if check.own is None else check.own.listed,
        "artifact": None if check.own is None else check.own.what,
        "unlisted_code": [c.what for c in check.unlisted],
    }


def _seals(bundle: Bundle) -> list[dict[str, Any]]:
    out = []
    for layout in bundle.layout.geometries():
        seal = verify_seal(bundle, layout.bundle_dir)
        if not seal.present:
            continue
        out.append({"bundle": layout.bundle_dir.display, "code_resources": seal.code_resources,
                    "version": seal.version, "sealed_files": seal.sealed_count,
                    "issues": len(seal.issues),
                    "error": str(seal.error) if seal.error else None})
    return out


def _format(bundle: Bundle, entry: Entry, macho: MachOFile) -> str:
    kind = (f"Mach-O universal ({' '.join(macho.arch_names)})" if macho.is_fat
            else f"Mach-O thin ({macho.arch_names[0]})")
    main = {layout.main_executable for layout in bundle.layout.geometries()}
    return f"app bundle with {kind}" if entry.relpath in main else kind


def inspect_file(bundle: Bundle, entry: Entry, macho: MachOFile,
                 options: Options) -> dict[str, Any]:
    try:
        hashes: CodeVerification | None = verify_code(bundle, entry)
    except ParseError:
        hashes = None
    return {
        "path": entry.display,
        "size": entry.size,
        "format": _format(bundle, entry, macho),
        "slices": [_slice(bundle, entry, sl, hashes, options) for sl in macho.slices],
    }


def _slice(bundle: Bundle, entry: Entry, sl: Slice, hashes: CodeVerification | None,
           options: Options) -> dict[str, Any]:
    bv = sl.macos_build_version
    record: dict[str, Any] = {
        "arch": sl.arch,
        "filetype": sl.filetype_name,
        "platform": bv.platform_name if bv else None,
        "minos": str(bv.minos) if bv else None,
        "sdk": str(bv.sdk) if bv else None,
        "signed": sl.code_signature is not None,
        "go": go_record(slice_go_info(bundle, entry, sl)),
    }
    sig = sl.signature
    if sl.signature_error is not None:
        record["signature_error"] = str(sl.signature_error)
    if sig is None:
        return record
    verified = {}
    if hashes is not None:
        for sv in hashes.slices:
            if sv.offset == sl.offset:
                verified = {cd.slot: cd for cd in sv.code_directories}
    primary = sig.primary
    record.update({
        "signature_kind": sig.kind,
        "identifier": primary.identifier if primary else None,
        "team_id": primary.team_id if primary else None,
        "code_directories": [_cd(cd, verified.get(cd.slot)) for cd in sig.code_directories],
    })
    cms = verify_signature(bundle, entry, sl, options)
    if cms.state is SignatureState.CERTIFICATE:
        ts = cms.timestamp
        record.update({
            "authority": list(cms.authority),
            "certificate_kind": cms.leaf_kind.value,
            "chain": cms.chain.status.value if cms.chain else None,
            "certificate_team_id": cms.team_id,
            "signing_time": cms.signing_time.isoformat() if cms.signing_time else None,
            "timestamp": ts.gen_time.isoformat() if ts else None,
            "timestamp_authority": ts.tsa_name if ts else None,
            "cms_problems": list(cms.problems),
        })
    ents = sig.entitlements
    record["entitlements"] = (jsonable(ents.values) if ents and ents.values is not None
                              else None)
    record["requirements"] = _requirements(sig.requirements, entry.display)
    return record


def _module(mod: GoModule) -> dict[str, Any]:
    return {"path": mod.path, "version": mod.version, "sum": mod.sum,
            "replace": _module(mod.replace) if mod.replace else None}


def go_record(info: GoInfo | None) -> dict[str, Any] | None:
    """A Go slice's build info as ``go version -m`` reads it (None for a slice not linked by
    Go): the fields of ``runtime/debug.BuildInfo`` in file order, settings as a list because
    their order is the file's and a key may repeat, plus the toolkits found in the
    dependencies and ``lines``, the exact lines ``go version -m`` prints after the file name."""
    if info is None:
        return None
    bi = info.build_info
    toolkits = [{"name": tk.name, "kind": "known", "module": tk.facts.module,
                 "version": tk.version, "replaced_by": tk.replaced_by}
                for tk in info.toolkits]
    toolkits += [{"name": tk.name, "kind": "other", "module": tk.module, "version": tk.version,
                  "replaced_by": tk.replaced_by} for tk in info.other_toolkits]
    return {
        "version": info.go_version,
        "version_source": info.version_source,
        "build_info": None if bi is None else {
            "format": bi.format,
            "offset": bi.offset,
            "path": bi.path,
            "main": _module(bi.main) if bi.main else None,
            "deps": [_module(dep) for dep in bi.deps],
            "settings": [{"key": key, "value": value} for key, value in bi.settings],
            "lines": bi.lines(),
        },
        "build_info_error": (None if info.build_info_error is None else
                             {"message": str(info.build_info_error),
                              "offset": info.build_info_error.offset}),
        "toolkits": toolkits,
    }


def _requirements(blob: bytes | None, path: str) -> str | None:
    if blob is None:
        return None
    try:
        return parse_requirements(blob, path=path).text
    except ParseError as err:
        return f"# unreadable: {err.reason}"


def _cd(cd: CodeDirectory, verified: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "slot": f"{cd.slot:#x}",
        "version": f"{cd.version:#x}",
        "flags": f"{cd.flags:#x}",
        "flag_names": list(cd.flag_names),
        "hash_type": cd.hash_name,
        "page_size": cd.page_size,
        "code_limit": cd.code_limit,
        "code_slots": cd.n_code_slots,
        "special_slots": cd.n_special_slots,
        "cdhash": cd.cdhash.hex(),
        "runtime_version": str(Version.from_packed(cd.runtime)) if cd.runtime else None,
        "exec_seg_flags": f"{cd.exec_seg_flags:#x}" if cd.exec_seg_flags is not None else None,
    }
    if verified is not None:
        out["pages_bad"] = verified.pages.bad_pages
        out["special_slots_status"] = {s.name: s.status.value for s in verified.specials}
    return out


def macho_entries(bundle: Bundle) -> list[Entry]:
    return list(bundle.entries_of(EntryKind.MACHO))


# --- the signing tree ------------------------------------------------------------------------

def signing_tree_record(bundle: Bundle, options: Options | None = None) -> dict[str, Any]:
    """The input and every signing target in it, nested as codesign walks them, each with its
    signature state at a glance. ``order`` is the position in which ``plan`` signs it (1 is
    first; the input is last): deepest first, because a bundle's seal records the cdhash of
    the code inside it. A container input (disk image, installer package, zip) is the root,
    with its own signature and ticket where it can carry them."""
    opts = options or Options()
    tree = signing_tree(bundle)
    order = {id(node): n for n, node in enumerate(tree.post_order(), start=1)}
    record = _node_record(bundle, tree, None, order, opts)
    container = _container(bundle, opts)
    if container is None:
        return record
    if bundle.archive is not None and record["kind"] != "bundle":
        # A zip holding one app reads as that app: the archive is the level above it.
        return {"path": bundle.archive.archive_name, "sealed_by": None, **container,
                "children": [record]}
    record.update(container)
    return record


def _container(bundle: Bundle, options: Options) -> dict[str, Any] | None:
    """The root's facts when the input is a container: its kind, its own signature (a disk
    image's code signature, a package's installer signature; a zip has none) and the ticket
    stapled to it. ``None`` for a bundle or a Mach-O file."""
    from bundlelint.analysis.containers import package_of, package_ticket
    from bundlelint.analysis.diskimage import image_signature, image_ticket

    if bundle.disk_image is not None:
        image = image_signature(bundle, options)
        return {"kind": "disk image", "executable": None,
                "signature": _image_state(image),
                "stapled": _ticket_state(image_ticket(bundle, options))}
    if bundle.package is not None or bundle.package_error is not None:
        report = package_of(bundle, options)
        signature = (_package_state(report.primary) if report is not None else
                     {"state": "unreadable", "error": str(bundle.package_error)})
        return {"kind": "installer package", "executable": None, "signature": signature,
                "stapled": _ticket_state(package_ticket(bundle, options))}
    if bundle.archive is not None:
        # A zip carries no signature and cannot be stapled: the notary's ticket is stapled
        # to the app inside it, after notarization (``xcrun stapler staple MyApp.app``).
        return {"kind": "zip archive", "executable": None, "order": None,
                "signature": {"state": "not signable"}, "stapled": None}
    return None


def _certificate_facts(cms: CmsVerification) -> dict[str, Any]:
    """A certificate signature as the tree sums it up (Mach-O slices and disk images alike):
    the leaf's kind as the state, the first authority, the Team ID, how far the chain goes,
    and whether a timestamp is there."""
    facts: dict[str, Any] = {"state": cms.leaf_kind.value,
                             "authority": cms.authority[0] if cms.authority else None,
                             "team_id": cms.team_id, "timestamp": cms.timestamp is not None}
    if cms.chain is not None:
        facts["chain"] = cms.chain.status.value
    return facts


def _image_state(check: ImageSignatureCheck | None) -> dict[str, Any]:
    if check is None:
        return {"state": "unreadable"}
    out: dict[str, Any] = {"state": check.state.value}
    verification = check.verification
    if verification is not None and verification.state is SignatureState.CERTIFICATE:
        out.update(_certificate_facts(verification))
    if check.problems:
        out["problems"] = list(check.problems)
    return out


def _package_state(primary: PackageSignatureCheck | None) -> dict[str, Any]:
    if primary is None:
        return {"state": "unsigned"}
    return {"state": primary.leaf_kind.value, "style": primary.style,
            "authority": primary.leaf_name, "team_id": primary.team_id,
            "chain": primary.chain.status.value, "timestamp": primary.timestamp is not None}


def _ticket_state(check: TicketCheck | None) -> bool | dict[str, Any]:
    """``False`` without a ticket; else what was verified of it offline: that Apple signed it
    and whether it lists the artifact's own cdhash."""
    if check is None:
        return False
    out: dict[str, Any] = {"where": check.where, "trusted": check.trusted}
    if check.own is not None:
        out["lists_this_code"] = check.own.listed
    if check.parse_error is not None:
        out["error"] = str(check.parse_error)
    return out


def _node_record(bundle: Bundle, node: SigningNode, parents: list[SigningNode] | None,
                 order: dict[int, int], options: Options) -> dict[str, Any]:
    code = _code_entry(bundle, node)
    record: dict[str, Any] = {
        "path": bundle.display(node.path) if node.path else bundle.name,
        "kind": node.kind,
        "order": order[id(node)],
        "executable": code.display if code is not None else None,
        "signature": _signature_state(bundle, code, options),
        "sealed_by": _sealed_by(bundle, node, parents or []),
        "stapled": _stapled(bundle, node, options),
    }
    lineage = [*(parents or []), node]
    record["children"] = [_node_record(bundle, child, lineage, order, options)
                          for child in node.children]
    return record


def _code_entry(bundle: Bundle, node: SigningNode) -> Entry | None:
    """The Mach-O file whose signature is the node's: a bundle's main executable, or the
    file itself."""
    bundle_dir = bundle.layout.bundle_at(node.path) if not bundle.is_single_file else None
    path = bundle.layout.main_executable(bundle_dir) if bundle_dir is not None else node.path
    entry = bundle.entry(path) if path is not None else None
    return entry if entry is not None and entry.kind is EntryKind.MACHO else None


def _signature_state(bundle: Bundle, entry: Entry | None,
                     options: Options) -> dict[str, Any]:
    """What ``codesign -dv`` would sum up: unsigned, ad hoc, linker-signed, or signed with a
    certificate of some kind (and whose), per architecture when slices differ."""
    if entry is None:
        return {"state": "no code"}
    try:
        macho = bundle.macho(entry)
    except ParseError as err:
        return {"state": "unreadable", "error": str(err)}
    slices: dict[str, str] = {}
    out: dict[str, Any] = {}
    runtime: list[bool] = []
    timestamped: list[bool] = []
    entitlements: set[str] = set()
    for sl in macho.slices:
        sig = sl.signature
        if sig is None:
            slices[sl.arch] = "unreadable" if sl.signature_error else "unsigned"
            continue
        state = sig.kind
        primary = sig.primary
        runtime.append(bool(primary and primary.has_hardened_runtime))
        if state == "certificate":
            cms = verify_signature(bundle, entry, sl, options)
            if cms.state is SignatureState.CERTIFICATE:
                facts = _certificate_facts(cms)
                state = facts.pop("state")
                timestamped.append(facts.pop("timestamp"))
                for key, value in facts.items():  # the first certificate slice's
                    out.setdefault(key, value)
        slices[sl.arch] = state
        ents = sig.entitlements
        if ents is not None and ents.values is not None:
            entitlements.update(str(key) for key in ents.values)
    states = set(slices.values())
    out["state"] = states.pop() if len(states) == 1 else "mixed"
    if out["state"] == "mixed":
        out["slices"] = slices
    out["architectures"] = list(slices)
    if runtime:
        out["hardened_runtime"] = all(runtime)
    if timestamped:
        out["timestamp"] = all(timestamped)
    out["entitlements"] = sorted(entitlements)
    return out


def _sealed_by(bundle: Bundle, node: SigningNode,
               parents: list[SigningNode]) -> dict[str, Any] | None:
    """The innermost enclosing bundle whose seal (``_CodeSignature/CodeResources``) records
    this node as nested code, and whether the recorded cdhash is the node's: codesign
    verifies nested code against it (Security, resources.cpp, ``files2`` entries with
    ``cdhash``). ``None`` for the input itself or when no enclosing bundle has a seal."""
    for parent in reversed(parents):
        parent_dir = bundle.layout.bundle_at(parent.path)
        if parent_dir is None:
            continue
        geometry = bundle.layout.geometry(parent_dir)
        seal = load_code_resources(bundle, geometry)
        if seal is None or isinstance(seal, ParseError):
            continue
        sealed = seal.files2.get(geometry.rel(node.path))
        if sealed is None:
            return {"bundle": parent_dir.display, "recorded": False}
        record: dict[str, Any] = {"bundle": parent_dir.display, "recorded": True}
        if sealed.cdhash is not None:
            entry = bundle.entry(node.path)
            actual = nested_cdhashes(bundle, entry) if entry is not None else ()
            record["cdhash_matches"] = any(h.startswith(sealed.cdhash.hex()) for h in actual)
        return record
    return None


def _stapled(bundle: Bundle, node: SigningNode,
             options: Options) -> bool | dict[str, Any] | None:
    """The ticket stapled to an app (``xcrun stapler staple`` writes it to
    ``Contents/CodeResources``, beside ``_CodeSignature``): ``False`` without one; ``None``
    where no ticket can be stapled (anything but an app: a bare Mach-O is looked up online)."""
    from bundlelint.analysis.containers import app_tickets

    bundle_dir = bundle.layout.bundle_at(node.path) if not bundle.is_single_file else None
    if bundle_dir is None or not bundle_dir.is_app:
        return None
    ticket_file = bundle_dir.child("CodeResources")
    found = next((t for t in app_tickets(bundle, options) if t.entry.relpath == ticket_file),
                 None)
    return _ticket_state(found.check) if found is not None and found.check is not None else False
