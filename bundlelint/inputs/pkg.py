"""A ``.pkg`` input: the installer package's files and every payload's contents as entries.

``bundlelint MyApp.pkg`` lints what the package installs: ``Payload/Applications/MyApp.app``
(``sub.pkg/Payload/...`` in a product archive) is walked like a directory on disk through
``inputs.volume.VolumeSource``, read in place from the compressed payloads
(``parsers.package``); nothing is extracted. The package itself is kept on the source
(``package``) for the package rules, or why its header or table of contents cannot be read
(``package_error``: the source then has no entries).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bundlelint.errors import ParseError
from bundlelint.inputs.volume import Mount, VolumeSource
from bundlelint.parsers.package import PackageVolume, open_package

if TYPE_CHECKING:
    from bundlelint.inputs.containers import ContainerFile


class PackageSource(VolumeSource):
    """The files of an installer package, and the package for its rules."""

    def __init__(self, file: ContainerFile) -> None:
        self.package: PackageVolume | None = None
        self.package_error: ParseError | None = None
        try:
            self.package = open_package(file.fh, file.name, size=file.size,
                                        max_ratio=file.options.max_compression_ratio)
        except ParseError as err:
            self.package_error = err
        super().__init__(file.name, [Mount("", self.package)] if self.package else [])


def open_package_source(file: ContainerFile) -> PackageSource:
    """The opener ``inputs.containers.CONTAINER_FORMATS`` names for xar archives."""
    return PackageSource(file)
