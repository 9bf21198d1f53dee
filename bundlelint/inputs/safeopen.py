"""The one way bundlelint opens a file it inspects.

Whatever it inspects may change under it (a build still running, or a hostile tree): between
the walk and a later read, a file can be replaced by a symlink to ``/etc/passwd``, by a FIFO
that no process writes to, or by another file. So every open of a bundle file, in this process
or in a hashing worker:

- does not follow a symlink in the last component (``O_NOFOLLOW``);
- does not block (``O_NONBLOCK``: opening a FIFO for reading would otherwise wait for a writer
  forever);
- is then checked with ``fstat`` on the open descriptor: a regular file, and, where the walk
  recorded it, the same device and inode the walk saw (a directory of the path swapped for a
  symlink leads to another inode, and is refused the same way);
- is read-only (bundlelint never writes to what it inspects).

The checks apply to the descriptor that is then read, so nothing can be swapped in between the
check and the read. Refusals are ``OSError`` values whose ``strerror`` says why (callers
name the file in their own terms) and whose ``filename`` is the path.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO, NamedTuple

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BASE_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
#: Flags of every open of a file inside an input.
READ_FLAGS = _BASE_FLAGS | NOFOLLOW
#: Flags of a directory opened to walk it (links below the root are refused by the caller).
DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
#: errno values an ``O_NOFOLLOW`` open of a symlink gives (Linux and macOS: ELOOP; FreeBSD:
#: EMLINK).
_LINK_ERRNOS = frozenset((errno.ELOOP, errno.EMLINK))
_S_IFMT, _S_IFREG = 0o170000, stat.S_IFREG


class FileIdentity(NamedTuple):
    """A file as the kernel knows it: device and inode number."""

    device: int
    inode: int


def identity_of(st: os.stat_result) -> FileIdentity:
    return FileIdentity(st.st_dev, st.st_ino)


def check_opened(fd: int, shown: str, expect: FileIdentity | None) -> os.stat_result:
    """``fstat`` of an open descriptor, refused unless it is a regular file (and, with
    ``expect``, that very file). Raises ``OSError`` (its ``strerror`` says why, its
    ``filename`` is ``shown``); the caller closes ``fd``."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "not a regular file (any more): not read", shown)
    if expect is not None and (st.st_dev, st.st_ino) != expect:
        raise OSError(errno.ESTALE, "replaced since it was listed: not read", shown)
    return st


def open_fd(path: str | os.PathLike[str], *, dir_fd: int | None = None,
            expect: FileIdentity | None = None, follow: bool = False) -> int:
    """A read-only descriptor of the regular file ``path`` (``dir_fd``: relative to that
    directory). ``follow`` is only for the path a user typed (a link they named on purpose);
    files inside an input are never opened through a link."""
    flags = _BASE_FLAGS if follow else READ_FLAGS
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in _LINK_ERRNOS and not follow:
            raise OSError(exc.errno, "a symbolic link: not followed", os.fspath(path)) from None
        raise
    try:
        check_opened(fd, os.fspath(path), expect)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_binary(path: str | os.PathLike[str], *, expect: FileIdentity | None = None,
                follow: bool = False, buffered: bool = True) -> BinaryIO:
    """:func:`open_fd` as a binary file object (unbuffered for callers that read big chunks
    into their own buffer)."""
    fd = open_fd(path, expect=expect, follow=follow)
    return os.fdopen(fd, "rb", buffering=-1 if buffered else 0)


def read_head(path: str | os.PathLike[str], size: int, *, dir_fd: int | None = None,
              expect: FileIdentity | None = None, follow: bool = False) -> bytes:
    """The first ``size`` bytes of a regular file (one open, one read, no buffer object: the
    walk does this for every file of the input, so the checks of :func:`open_fd` are inlined
    here for the common case and only a refusal takes the slow path)."""
    if follow:
        fd = open_fd(path, dir_fd=dir_fd, expect=expect, follow=True)
    else:
        try:
            fd = os.open(path, READ_FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno in _LINK_ERRNOS:
                raise OSError(exc.errno, "a symbolic link: not followed",
                              os.fspath(path)) from None
            raise
    try:
        st = os.fstat(fd)
        if (st.st_mode & _S_IFMT != _S_IFREG
                or (expect is not None and (st.st_ino != expect[1] or st.st_dev != expect[0]))):
            check_opened(fd, os.fspath(path), expect)  # raises, saying why
        return os.read(fd, size)
    finally:
        os.close(fd)


def read_tail(path: str | os.PathLike[str], size: int, *,
              follow: bool = False) -> tuple[bytes, bytes]:
    """The first and the last ``size`` bytes of a regular file (magic at either end: a zip,
    a xar archive, a UDIF trailer)."""
    fd = open_fd(path, follow=follow)
    try:
        head = os.read(fd, size)
        length = os.fstat(fd).st_size
        tail = head
        if length > size:
            os.lseek(fd, length - size, os.SEEK_SET)
            tail = os.read(fd, size)
        return head, tail
    finally:
        os.close(fd)
