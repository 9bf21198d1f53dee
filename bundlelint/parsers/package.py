"""An installer package as one file tree: the xar archive's files, with each component's
``Payload`` (and ``Scripts``) opened as a directory holding its cpio contents.

Why: the apps and Mach-O files a package installs are inside its compressed payloads; the
input layer walks this ``Volume`` like a directory, so every rule runs on them. A payload's
files appear under the path they are installed to: ``Payload/<install-location>/...`` (for a
product archive ``sub.pkg/Payload/...``), so ``pkgbuild --install-location /Applications``
shows ``Payload/Applications/MyApp.app/Contents/...``. Nothing is extracted; a payload is
decoded on demand (``parsers.decoded``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from bundlelint.errors import ParseError
from bundlelint.parsers.cpio import CpioVolume
from bundlelint.parsers.decoded import open_payload
from bundlelint.parsers.pkginfo import PackageInfo, parse_package_info
from bundlelint.parsers.volume import Node, NodeKind
from bundlelint.parsers.xar import XarArchive, XarVolume, read_xar

#: The largest PackageInfo or Distribution read (real ones are a few kilobytes).
MAX_DESCRIPTION = 4 * 1024 * 1024
ARCHIVES = ("Payload", "Scripts")


@dataclass
class _Archive:
    """One Payload or Scripts cpio archive inside the package."""

    xar_path: str  # e.g. "sub.pkg/Payload"
    prefix: str  # where its entries appear: "sub.pkg/Payload/Applications"
    compression: str | None = None
    volume: CpioVolume | None = None
    error: ParseError | None = None


@dataclass
class PackageVolume:
    """The package's files (``parsers.volume.Volume``); ``archive`` is the parsed xar."""

    archive: XarArchive
    fh: BinaryIO
    name: str
    max_ratio: float = 1000.0
    xar: XarVolume = field(init=False)
    archives: dict[str, _Archive] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.xar = XarVolume(self.archive, self.fh, self.name)

    def package_info(self, component: str) -> PackageInfo | ParseError | None:
        """The PackageInfo of the component package at ``component`` ("" for the root)."""
        path = f"{component}/PackageInfo" if component else "PackageInfo"
        entry = self.archive.entry(path)
        if entry is None or entry.data is None:
            return None
        try:
            return parse_package_info(self.xar.read(path, MAX_DESCRIPTION), path=self.name,
                                      base=entry.data.absolute_offset)
        except ParseError as err:
            return err

    def _cpio(self, xar_path: str) -> _Archive:
        found = self.archives.get(xar_path)
        if found is not None:
            return found
        component = xar_path.rpartition("/")[0]
        prefix = xar_path
        if xar_path.endswith("Payload"):
            info = self.package_info(component)
            if isinstance(info, PackageInfo) and info.install_location:
                location = "/".join(p for p in info.install_location.split("/")
                                    if p not in ("", ".", ".."))
                if location:
                    prefix = f"{xar_path}/{location}"
        found = _Archive(xar_path, prefix)
        try:
            found.compression, decoded = open_payload(self.xar.source(xar_path),
                                                      what=xar_path, max_ratio=self.max_ratio)
            found.volume = CpioVolume(decoded, xar_path)
            found.volume.entries()  # the whole archive's headers, checked now
        except ParseError as err:
            found.error = err.with_path(self.name)
            found.volume = None
        self.archives[xar_path] = found
        return found

    def walk(self) -> Iterator[Node]:
        for node in self.xar.walk():
            if node.kind is not NodeKind.FILE or node.error or \
                    node.path.rpartition("/")[2] not in ARCHIVES:
                yield node
                continue
            cpio = self._cpio(node.path)
            if cpio.volume is None:
                assert cpio.error is not None
                yield Node(node.path, NodeKind.FILE, node.size, node.mode, None, node.offset,
                           f"{cpio.error.reason} (offset {cpio.error.offset})")
                continue
            yield Node(node.path, NodeKind.DIRECTORY, 0, 0o040755, None, node.offset, None)
            parts = cpio.prefix[len(node.path):].strip("/").split("/") if \
                cpio.prefix != node.path else []
            for i in range(len(parts)):
                yield Node("/".join([node.path, *parts[:i + 1]]), NodeKind.DIRECTORY, 0,
                           0o040755, None, None, None)
            for inner in cpio.volume.walk():
                yield Node(f"{cpio.prefix}/{inner.path}", inner.kind, inner.size, inner.mode,
                           inner.link_target, inner.offset, inner.error)

    def _route(self, path: str) -> tuple[_Archive, str] | None:
        for xar_path, cpio in self.archives.items():
            if path.startswith(cpio.prefix + "/"):
                return cpio, path[len(cpio.prefix) + 1:]
            if path.startswith(xar_path + "/"):
                return None
        return None

    def open(self, path: str) -> BinaryIO:
        routed = self._route(path)
        if routed is not None and routed[0].volume is not None:
            return routed[0].volume.open(routed[1])
        return self.xar.open(path)


def open_package(fh: BinaryIO, name: str, *, size: int | None = None,
                 max_ratio: float = 1000.0) -> PackageVolume:
    """Parse the package in ``fh`` (``ParseError`` if its header or TOC is unreadable)."""
    return PackageVolume(read_xar(fh, path=name, size=size), fh, name, max_ratio)
