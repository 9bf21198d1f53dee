"""A disk image (``.dmg``) as an input: the files of its HFS+ or APFS volumes, walked like a
directory, so every rule judges the apps inside as it would on disk, with paths shown as
``MyApp.dmg/MyApp.app/Contents/MacOS/myapp``.

Nothing is mounted or extracted: the image is read through ``parsers.udif`` (chunks
decompressed on demand, memory bounded by a chunk), its partitions found by
``parsers.partitions`` (by content), and each volume opened by its reader
(``parsers.hfsplus``, ``parsers.apfs``) over a buffered view of its partition; the trees reach
the bundle model through ``inputs.volume.VolumeSource``. The image's own facts (structure,
partitions, signature, volumes that could not be read) are kept in ``disk_image``, a
``DiskImageReport`` that ``Bundle.disk_image`` exposes to the disk-image rules
(``rules/diskimage.py``). A broken image gives a report and an empty walk, never a traceback.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import replace

from bundlelint.errors import ParseError
from bundlelint.inputs.containers import ContainerFile
from bundlelint.inputs.volume import Mount, VolumeSource
from bundlelint.parsers.diskimage import DiskImageReport, VolumeProblem, inspect_disk_image
from bundlelint.parsers.partitions import FS_APFS, Partition
from bundlelint.parsers.udif import open_range
from bundlelint.parsers.volume import Volume

#: Read-ahead of the buffered view each volume reader reads its partition through: the
#: readers make many small reads, which the buffer serves without a chunk lookup each time.
READ_AHEAD = 64 * 1024


class DiskImageSource(VolumeSource):
    """The volumes of a disk image, and the image's own facts for its rules."""

    def __init__(self, name: str, mounts: Sequence[Mount], report: DiskImageReport) -> None:
        super().__init__(name, mounts)
        #: The image's structure, partitions and signature (``Bundle.disk_image``).
        self.disk_image = report


def open_dmg(file: ContainerFile) -> DiskImageSource:
    """The source of a disk image's volumes: one volume at the root, several each under a
    directory named after it. Never raises for a damaged image: the report says what failed."""
    report = inspect_disk_image(file.fh, name=file.name, path=file.path or file.name,
                                file_size=file.size)
    volumes: list[Volume] = []
    problems = list(report.volume_problems)
    if report.image is not None and report.partitions is not None:
        for partition in report.partitions.volumes:
            try:
                volumes += _mount(report, partition, file)
            except ParseError as err:
                problems.append(VolumeProblem(
                    partition, f"partition {partition.index} ({partition.filesystem}) cannot be "
                    f"read: {err.reason}", err.offset))
    if len(volumes) == 1:
        mounts = [Mount("", volumes[0])]
    else:
        mounts = [Mount(_dir_name(v.name, i), v) for i, v in enumerate(volumes)]
    identity = (file.identity.device, file.identity.inode) if file.identity is not None \
        else None
    return DiskImageSource(file.name, mounts, replace(report, volume_problems=tuple(problems),
                                                      identity=identity))


def _mount(report: DiskImageReport, partition: Partition, file: ContainerFile) -> list[Volume]:
    assert report.image is not None
    stream = io.BufferedReader(open_range(report.image, file.fh, partition.start,
                                          partition.size), buffer_size=READ_AHEAD)
    if partition.filesystem == FS_APFS:
        from bundlelint.parsers.apfs import read_container

        return list(read_container(stream, file.name).volumes)
    from bundlelint.parsers.hfsplus import HFSPlusVolume

    return [HFSPlusVolume(stream, path=file.name)]


def _dir_name(name: str, index: int) -> str:
    """A volume's name as a path component: never empty, '.', '..' or holding '/'."""
    clean = name.replace("/", ":").strip()
    unique = clean if clean not in ("", ".", "..") else "volume"
    return f"{unique}-{index}" if index else unique
