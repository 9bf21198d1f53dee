"""What ``codesign -dvvv``, ``-d --entitlements -`` and ``-d -r-`` would show, per file and slice.

Builds plain JSON-ready dictionaries from the parsed models and the other analyses (code-hash,
CMS and seal verification), so ``bundlelint inspect`` has one source for its text and JSON forms.
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

from bundlelint.analysis.cms import SignatureState, verify_signature
from bundlelint.analysis.codehash import CodeVerification, verify_code
from bundlelint.analysis.golang import GoInfo, slice_go_info
from bundlelint.analysis.seal import verify_seal
from bundlelint.bundle import Bundle, Entry, EntryKind
from bundlelint.errors import ParseError
from bundlelint.options import Options
from bundlelint.parsers.codesign import CodeDirectory
from bundlelint.parsers.gobuildinfo import GoModule
from bundlelint.parsers.macho import MachOFile, Slice, Version
from bundlelint.parsers.requirements import parse_requirements

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
    return {"format_version": INSPECT_FORMAT_VERSION, "input": bundle.name,
            "seals": _seals(bundle), "files": files}


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
