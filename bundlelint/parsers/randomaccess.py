"""One owner of the position bookkeeping of a read-only, seekable raw stream of known size.

Why: zip members, HFS+ forks, APFS extents, decmpfs files and a disk image's decompressed
sectors are all read through ``io.RawIOBase`` subclasses that differ only in how ``readinto``
finds the bytes at the current position. ``readable``/``seekable``/``tell``/``seek`` are the
same for all of them, so they live here once; a subclass provides ``readinto`` (reading from
``self._pos`` and advancing it) and ``_length`` (the stream's size, for ``SEEK_END``).
"""

from __future__ import annotations

import io


class RandomAccessReader(io.RawIOBase):
    """A read-only raw stream with a position anywhere from 0 up (past the end reads
    nothing). Subclasses implement ``readinto`` and ``_length``."""

    def __init__(self) -> None:
        super().__init__()
        self._pos = 0

    def _length(self) -> int:
        """The stream's size in bytes (what ``SEEK_END`` counts from)."""
        raise NotImplementedError

    def _negative_position(self, pos: int) -> int:
        """What a seek before the start does: ``ValueError``, as ``io.BytesIO`` does.
        Subclasses whose callers expect another answer override it."""
        raise ValueError("negative seek position")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._length() + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            pos = self._negative_position(pos)
        self._pos = pos
        return pos
