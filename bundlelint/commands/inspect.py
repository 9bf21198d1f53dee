"""``bundlelint inspect PATH``: what codesign -dvvv / --entitlements / -r- would show, offline."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bundlelint.commands import EXIT_CLEAN, EXIT_USAGE, open_or_report
from bundlelint.display import json_safe, line_safe, printable
from bundlelint.reporters.signing_tree import count_steps, node_facts, relative_path
from bundlelint.rules import Registry

if TYPE_CHECKING:
    from rich.text import Text

NAME = "inspect"
HELP = "show each file's signature like `codesign -dvvv` (format, hashes, authority, ...)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help=".app bundle, Mach-O file, .zip or .pkg")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--trust-anchor", metavar="FILE", type=Path, action="append",
                        help="also trust this certificate as a root (test fixtures only)")


def run(args: argparse.Namespace, registry: Registry) -> int:
    from bundlelint.analysis.inspection import inspect_bundle
    from bundlelint.options import Options
    from bundlelint.trust import anchors_from

    options = Options(extra_trust_anchors=anchors_from(args.trust_anchor))
    bundle = open_or_report(args.path, options)
    if bundle is None:
        return EXIT_USAGE
    doc = inspect_bundle(bundle, options)
    if args.format == "json":
        json.dump(json_safe(doc), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(doc))
    return EXIT_CLEAN


def render_text(doc: dict[str, Any]) -> str:
    lines: list[str] = [*render_tree(doc["tree"]), ""]
    if doc.get("package"):
        lines.extend(_package_lines(doc["package"]))
    if doc.get("disk_image"):
        lines.extend(_disk_image_lines(doc["disk_image"]))
    for ticket in doc.get("tickets", []):
        lines.extend(_ticket_lines(ticket))
    for seal in doc["seals"]:
        lines.append(f"{seal['bundle']}: Sealed Resources version={seal['version'][1:]} "
                     f"files={seal['sealed_files']}"
                     + (f" issues={seal['issues']}" if seal["issues"] else ""))
    for f in doc["files"]:
        lines.append(f"{f['path']}")
        if "error" in f:
            lines.append(f"  error: {f['error']}")
            continue
        lines.append(f"  Format={f['format']}")
        for sl in f["slices"]:
            lines.extend(f"  {line}" for line in _slice_lines(sl))
            if sl.get("go"):
                lines.extend(f"    {line}" for line in _go_lines(sl["go"]))
    # Every field comes from the input (Identifier, TeamIdentifier, authority names, paths):
    # each line is escaped once here, so none can break the layout or reach the terminal raw.
    return "\n".join(line_safe(printable(line)) for line in lines) + "\n"


def render_tree(root: dict[str, Any]) -> list[str]:
    """The signing tree as rich draws a ``Tree``: each node's path (relative to its parent),
    its kind, when ``plan`` signs it, and its signature state. Labels are ``Text`` built from
    escaped strings, never markup."""
    from rich.console import Console
    from rich.tree import Tree

    total = count_steps(root)
    tree = Tree(_tree_label(root, "", total))

    def add(branch: Tree, node: dict[str, Any]) -> None:
        for child in node["children"]:
            add(branch.add(_tree_label(child, node["path"], total)), child)

    add(tree, root)
    buffer = io.StringIO()
    Console(file=buffer, width=10_000, no_color=True, markup=False, emoji=False,
            highlight=False).print(tree)
    return [line_safe(line.rstrip()) for line in buffer.getvalue().splitlines()]


def _tree_label(node: dict[str, Any], parent: str, total: int) -> Text:
    from rich.text import Text

    return Text(printable(relative_path(node, parent)) + "  "
                + printable(" · ".join(node_facts(node, total))))


def _package_lines(pkg: dict[str, Any]) -> list[str]:
    xar = pkg["xar"]
    out = [f"{pkg['path']}: xar v{xar['version']} header={xar['header_size']} "
           f"toc={xar['toc_compressed']}/{xar['toc_uncompressed']} checksum={xar['checksum']}"
           f" {'ok' if xar['checksum_matches'] else 'MISMATCH'}"]
    if not pkg["signatures"]:
        out.append("  Signature=none")
    for sig in pkg["signatures"]:
        out.append(f"  Signature={sig['style']} kind={sig['kind']} chain={sig['chain']}"
                   + (f" problems={'; '.join(sig['problems'])}" if sig["problems"] else ""))
        out.extend(f"    Authority={name}" for name in sig["authority"])
        if sig["team_id"]:
            out.append(f"    TeamIdentifier={sig['team_id']}")
        if sig["timestamp"]:
            out.append(f"    Timestamp={sig['timestamp']}")
    if pkg["distribution"]:
        refs = ", ".join(f"{r['id']} ({r['path']})" for r in pkg["distribution"]["pkg_refs"])
        out.append(f"  Distribution: {refs}")
    for comp in pkg["components"]:
        out.append(f"  Component {comp['path'] or '.'}: {comp['identifier']} {comp['version']} "
                   f"install-location={comp['install_location']} payload={comp['payload']}"
                   + (f" scripts={', '.join(comp['scripts'])}" if comp["scripts"] else ""))
    for item in pkg["damaged"]:
        out.append(f"  damaged at {item['offset']}: {item['reason']}")
    tail = pkg["tail"]
    if tail["size"]:
        out.append(f"  {tail['size']} bytes after the archive at {tail['offset']}"
                   + (" (stapled ticket)" if tail["ticket"] else ""))
    return out


def _disk_image_lines(dmg: dict[str, Any]) -> list[str]:
    out = [f"Disk image {dmg['path']}"]
    if dmg["encrypted"]:
        out.append(f"  encrypted ({dmg['encrypted']}): contents not read")
    if dmg["error"]:
        out.append(f"  unreadable at offset {dmg['error']['offset']}: {dmg['error']['reason']}")
    if dmg["udif"]:
        udif = dmg["udif"]
        out.append(f"  UDIF v{udif['version']}, {udif['sectors']} sectors, chunks: "
                   f"{', '.join(dmg['chunk_kinds']) or 'none'}; resources: "
                   f"{', '.join(dmg['resources']) or 'none'}")
    if dmg["scheme"]:
        out.append(f"  partition map: {dmg['scheme']}")
    for part in dmg["partitions"]:
        out.append(f"    {part['index']}: {part['type'] or '-'} {part['name']!r} at "
                   f"{part['start']:#x}, {part['size']} bytes, file system "
                   f"{part['filesystem'] or 'none'}")
    out.extend(f"  not read: {v['reason']}" for v in dmg["volume_problems"])
    sig = dmg["signature"]
    if sig is not None:
        state = sig["state"] if sig["state"] != "certificate" else sig["kind"]
        out.append(f"  Signature: {state}"
                   + (f", Identifier={sig['identifier']}" if sig["identifier"] else "")
                   + (f", TeamIdentifier={sig['team_id']}" if sig["team_id"] else "")
                   + (f", Timestamp={sig['timestamp']}" if sig["timestamp"] else ""))
        out.extend(f"  Authority={name}" for name in sig["authority"])
        out.extend(f"  problem: {p}" for p in sig["problems"])
    return out


def _ticket_lines(ticket: dict[str, Any]) -> list[str]:
    if ticket["error"]:
        return [f"Ticket in {ticket['where']}: unreadable: {ticket['error']}"]
    out = [f"Ticket in {ticket['where']}: stapled {ticket['time']} "
           f"{'trusted' if ticket['trusted'] else 'NOT TRUSTED'}"
           + (f" ({ticket['signature_problem']})" if ticket["signature_problem"] else "")]
    out.extend(f"  Authority={name}" for name in ticket["signer"])
    if ticket["artifact"] is not None:
        out.append(f"  lists {ticket['artifact']}: {'yes' if ticket['lists_artifact'] else 'NO'}")
    out.extend(f"  {h['type']} {h['hash']}" for h in ticket["hashes"])
    if ticket["unlisted_code"]:
        out.append(f"  not listed: {', '.join(ticket['unlisted_code'])}")
    return out


def _slice_lines(sl: dict[str, Any]) -> list[str]:
    out = [f"[{sl['arch']}] {sl['filetype']} platform={sl['platform']} minos={sl['minos']} "
           f"sdk={sl['sdk']}"]
    if "signature_error" in sl:
        out.append(f"  Signature=unreadable: {sl['signature_error']}")
    if not sl["signed"]:
        out.append("  code object is not signed at all")
        return out
    if "identifier" not in sl:
        return out
    out.append(f"  Identifier={sl['identifier']}")
    for cd in sl["code_directories"]:
        out.append(
            f"  CodeDirectory slot={cd['slot']} v={cd['version'][2:]} "
            f"flags={cd['flags']}({','.join(cd['flag_names']) or 'none'}) "
            f"hashes={cd['code_slots']}+{cd['special_slots']} hash={cd['hash_type']} "
            f"page={cd['page_size']}"
            + (f" bad_pages={cd['pages_bad']}" if cd.get("pages_bad") else ""))
        out.append(f"  CDHash={cd['cdhash']}")
        if cd["runtime_version"]:
            out.append(f"  Runtime Version={cd['runtime_version']}")
    if sl["signature_kind"] != "certificate":
        kind = "adhoc" if sl["signature_kind"] == "adhoc" else "adhoc (linker-signed)"
        out.append(f"  Signature={kind}")
    for name in sl.get("authority", []):
        out.append(f"  Authority={name}")
    if sl.get("timestamp"):
        out.append(f"  Timestamp={sl['timestamp']}")
    elif sl.get("signing_time"):
        out.append(f"  Signed Time={sl['signing_time']}")
    out.append(f"  TeamIdentifier={sl['team_id'] or 'not set'}")
    if sl.get("entitlements") is not None:
        out.append("  Entitlements=" + json.dumps(sl["entitlements"], sort_keys=True))
    if sl.get("requirements"):
        out.extend(f"  {line}" for line in sl["requirements"].splitlines())
    return out


def _go_lines(go: dict[str, Any]) -> list[str]:
    """The Go version, toolkits, and ``go version -m``'s lines with each tab shown as a space
    (Go quotes every build value holding a space or tab, and module columns hold none, so
    the columns stay unambiguous)."""
    out = [f"Go={go['version'] or 'unknown'} (from {go['version_source']})"]
    for tk in go["toolkits"]:
        replaced = f" => {tk['replaced_by']}" if tk["replaced_by"] else ""
        kind = "" if tk["kind"] == "known" else " (other)"
        out.append(f"Toolkit={tk['name']}{kind} {tk['module']} {tk['version']}{replaced}")
    if go["build_info_error"]:
        out.append(f"Go build info unreadable: {go['build_info_error']['message']}")
    bi = go["build_info"]
    if bi is not None:
        out.extend(f"  {line.replace(chr(9), ' ').rstrip(' ')}" for line in bi["lines"] if line)
    elif not go["build_info_error"]:
        out.append("Go build info: none (stripped)")
    return out
