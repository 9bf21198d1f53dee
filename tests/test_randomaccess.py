"""parsers/randomaccess: the one position bookkeeping of the seekable raw readers."""

from __future__ import annotations

import io

import pytest

from bundlelint.parsers.randomaccess import RandomAccessReader


class _Bytes(RandomAccessReader):
    """The smallest reader: bytes in memory."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = data

    def _length(self) -> int:
        return len(self._data)

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        got = self._data[self._pos : self._pos + len(buffer)]
        buffer[: len(got)] = got
        self._pos += len(got)
        return len(got)


@pytest.mark.parametrize(("offset", "whence", "expected"), [
    (3, io.SEEK_SET, 3), (-2, io.SEEK_END, 8), (4, io.SEEK_END, 14), (2, io.SEEK_CUR, 7),
])
def test_seek_and_read_as_bytesio_does(offset: int, whence: int, expected: int) -> None:
    data = bytes(range(10))
    ours, theirs = _Bytes(data), io.BytesIO(data)
    ours.seek(5)
    theirs.seek(5)
    assert ours.seek(offset, whence) == theirs.seek(offset, whence) == expected
    assert ours.tell() == expected
    assert io.BufferedReader(ours).read() == theirs.read()


def test_negative_and_unknown_positions_are_refused() -> None:
    reader = _Bytes(b"abc")
    with pytest.raises(ValueError, match="negative"):
        reader.seek(-1)
    with pytest.raises(ValueError, match="whence"):
        reader.seek(0, 7)
    assert reader.tell() == 0 and reader.readable() and reader.seekable()
