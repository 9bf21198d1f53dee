"""An installer package's own descriptions: ``PackageInfo`` (a component package, written by
``pkgbuild``) and ``Distribution`` (a product archive, written by ``productbuild``).

Elements and attributes read (Apple's "Distribution XML Reference" and "PackageInfo" as
``pkgbuild`` writes it; docs/formats.md 13): ``<pkg-info identifier
version install-location auth>``, its ``<bundle id path CFBundleShortVersionString>``,
``<scripts>`` children (``preinstall``/``postinstall`` ``file=``) and ``<payload
numberOfFiles installKBytes>``; ``<installer-gui-script minSpecVersion>`` with ``<pkg-ref id
version>#sub.pkg</pkg-ref>``, ``<options hostArchitectures>``, ``<script>`` (JavaScript run by
Installer), ``<installation-check>``/``<volume-check>``. The XML is read by
``parsers.safexml`` (no entities; bounded).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from bundlelint.parsers.safexml import Element, parse_xml


@dataclass(frozen=True)
class BundleInfo:
    path: str
    id: str | None
    version: str | None


@dataclass(frozen=True)
class PackageInfo:
    identifier: str | None
    version: str | None
    install_location: str | None
    auth: str | None
    format_version: str | None
    bundles: tuple[BundleInfo, ...]
    scripts: tuple[tuple[str, str], ...]  # (phase, file) e.g. ("postinstall", "./postinstall")
    number_of_files: int | None
    install_kbytes: int | None


@dataclass(frozen=True)
class PkgRef:
    id: str
    version: str | None
    path: str | None  # the component package inside the archive (``#sub.pkg`` -> ``sub.pkg``)


@dataclass(frozen=True)
class Distribution:
    min_spec_version: str | None
    title: str | None
    host_architectures: tuple[str, ...]
    pkg_refs: tuple[PkgRef, ...]
    has_javascript: bool
    installation_check: bool
    volume_check: bool


def _int(text: str | None) -> int | None:
    return int(text) if text and len(text) < 19 and set(text) <= set("0123456789") else None


def parse_package_info(data: bytes, *, path: str, base: int = 0) -> PackageInfo:
    root = parse_xml(data, fmt="PackageInfo", path=path, base=base, where="PackageInfo")
    attrs = root.attrs
    bundles = tuple(BundleInfo(b.attrs.get("path", ""), b.attrs.get("id"),
                               b.attrs.get("CFBundleShortVersionString"))
                    for b in _walk(root) if b.tag == "bundle" and "path" in b.attrs)
    scripts: list[tuple[str, str]] = []
    block = root.find("scripts")
    for script in block.children if block is not None else []:
        scripts.append((script.tag, script.attrs.get("file", "")))
    payload = root.find("payload")
    return PackageInfo(
        identifier=attrs.get("identifier"), version=attrs.get("version"),
        install_location=attrs.get("install-location"), auth=attrs.get("auth"),
        format_version=attrs.get("format-version"), bundles=bundles[:1000],
        scripts=tuple(scripts[:100]),
        number_of_files=_int(payload.attrs.get("numberOfFiles")) if payload is not None else None,
        install_kbytes=_int(payload.attrs.get("installKBytes")) if payload is not None else None)


def parse_distribution(data: bytes, *, path: str, base: int = 0) -> Distribution:
    root = parse_xml(data, fmt="Distribution", path=path, base=base, where="Distribution")
    refs: dict[str, PkgRef] = {}
    for element in _walk(root):
        if element.tag != "pkg-ref" or "id" not in element.attrs:
            continue
        ref_id = element.attrs["id"]
        known = refs.get(ref_id)
        target = element.text[1:] if element.text.startswith("#") else None
        version = element.attrs.get("version")
        if known is None:
            refs[ref_id] = PkgRef(ref_id, version, unquote(target) if target else None)
        elif known.path is None or known.version is None:
            refs[ref_id] = PkgRef(ref_id, known.version or version,
                                  known.path or (unquote(target) if target else None))
    options = root.find("options")
    arches = options.attrs.get("hostArchitectures", "") if options is not None else ""
    return Distribution(
        min_spec_version=root.attrs.get("minSpecVersion"),
        title=root.child_text("title"),
        host_architectures=tuple(a.strip() for a in arches.split(",") if a.strip()),
        pkg_refs=tuple(refs.values())[:1000],
        has_javascript=any(e.tag == "script" and e.text for e in root.children),
        installation_check=root.find("installation-check") is not None,
        volume_check=root.find("volume-check") is not None)


def _walk(element: Element) -> list[Element]:
    out: list[Element] = []
    stack = [element]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(current.children))
    return out
