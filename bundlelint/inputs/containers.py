"""Containers recognised by content (a disk image, an installer package) and who opens them.

Each container format is one line of ``CONTAINER_FORMATS``: how to recognise it from the first
and last ``MAGIC_BYTES`` of a file, and the module and function that open it (imported only
when a file matches, so a lint of an app imports no disk-image code). An opener takes a
``ContainerFile`` and returns the ``Source`` of what is inside (usually an
``inputs.volume.VolumeSource`` carrying the container's own facts for its rules); it never
raises for a damaged container, it returns a source whose facts say what failed. The same
openers serve a container given on the command line (``inputs.dispatch``) and one found inside
another input (``inputs.nested``).
"""

from __future__ import annotations

import importlib
import struct
from collections.abc import Callable
from typing import BinaryIO, NamedTuple

from bundlelint.inputs.safeopen import FileIdentity
from bundlelint.inputs.source import Source
from bundlelint.options import Options

#: Bytes read at each end of a file to recognise a container.
MAGIC_BYTES = 512


class ContainerFile(NamedTuple):
    """A container for an opener: its bytes, and how to name it."""

    #: Seekable and read-only; the source returned may keep it open for its own lifetime.
    fh: BinaryIO
    size: int
    #: How findings name the container: ``MyApp.dmg``.
    name: str
    #: The file on disk when the user named it (``None`` inside another container), and the
    #: identity to check when it is opened again (``safeopen.open_binary(path, expect=...)``).
    path: str | None
    identity: FileIdentity | None
    options: Options


def is_udif(head: bytes, tail: bytes) -> bool:
    """A UDIF disk image: the 512-byte ``koly`` trailer ends the file, its big-endian header
    size field 512 (the ``UDIFResourceFile`` trailer as hdiutil writes it: signature ``koly``,
    version 4, headerSize 512)."""
    if len(tail) < MAGIC_BYTES or not tail.startswith(b"koly"):
        return False
    _version, header_size = struct.unpack_from(">II", tail, 4)
    return bool(header_size == MAGIC_BYTES)


def is_xar(head: bytes, tail: bytes) -> bool:
    """A xar archive (an installer package): ``xar!`` at offset 0 and a big-endian header size
    of at least 28 bytes (libxar, include/xar.h, ``struct xar_header``)."""
    return (len(head) >= 6 and head.startswith(b"xar!")
            and struct.unpack_from(">H", head, 4)[0] >= 28)


class ContainerFormat(NamedTuple):
    """One container format: what it is called, how it is recognised, who opens it."""

    what: str
    recognise: Callable[[bytes, bytes], bool]  # (first and last MAGIC_BYTES bytes)
    opener: str  # "module:function", a Callable[[ContainerFile], Source]


def is_disk_image(head: bytes, tail: bytes) -> bool:
    """A UDIF disk image, or an encrypted one (``encrcdsa`` at 0, or ``cdsaencr`` ending a
    version-1 image: Security ``EncDiskImageRep::readHeader``), reported as such."""
    return is_udif(head, tail) or head.startswith(b"encrcdsa") or tail.endswith(b"cdsaencr")


#: The formats recognised by content, tried in order. Add a format with one line here.
CONTAINER_FORMATS: list[ContainerFormat] = [
    ContainerFormat("disk image", is_disk_image, "bundlelint.inputs.dmg:open_dmg"),
    ContainerFormat("installer package", is_xar, "bundlelint.inputs.pkg:open_package_source"),
]


def container_format(head: bytes, tail: bytes) -> ContainerFormat | None:
    """The container format the first and last bytes of a file show, if any."""
    for fmt in CONTAINER_FORMATS:
        if fmt.recognise(head, tail):
            return fmt
    return None


def open_container(fmt: ContainerFormat, file: ContainerFile) -> Source:
    """The source of what ``file`` holds, through the format's opener."""
    module, _, function = fmt.opener.partition(":")
    opener: Callable[[ContainerFile], Source] = getattr(importlib.import_module(module),
                                                        function)
    return opener(file)
