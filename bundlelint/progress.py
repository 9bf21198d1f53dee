"""Progress over long work (hashing big binaries), for people at a terminal only.

Analysis code wraps work it can measure in bytes::

    from bundlelint import progress

    with progress.task("Hashing Contents/MacOS/demo", total_bytes) as advance:
        for page in pages:
            ...
            advance(len(page))

A bar appears on stderr only when stderr is a terminal, the task is large (``THRESHOLD``
bytes or more) and progress is enabled (``--quiet`` disables it). Otherwise ``advance`` is a
no-op that costs one function call: nothing reaches CI logs, pipes or captured output, and
stdout (where reports go) is never touched. Tasks may be nested or run from worker threads;
they share one bar display, which is removed when the last task ends.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

#: Smallest task worth a bar: under this, hashing finishes before a bar would be read.
THRESHOLD = 64 * 1024 * 1024

Advance = Callable[[int], None]

_enabled = True
_lock = threading.Lock()
_progress: Any = None  # the shared rich.progress.Progress while tasks are running
_active = 0


def set_enabled(enabled: bool) -> bool:
    """Turn bars on or off; returns the previous setting, which the lint pipeline restores
    when it is done (``--quiet`` and the Python API run without bars)."""
    global _enabled
    before, _enabled = _enabled, enabled
    return before


def _noop(_n: int) -> None:
    return None


def should_show(total: int, stream: TextIO | None = None) -> bool:
    """Whether a task of ``total`` bytes gets a bar on ``stream`` (default: stderr)."""
    stream = sys.stderr if stream is None else stream
    if not _enabled or total < THRESHOLD or os.environ.get("BUNDLELINT_NO_PROGRESS"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


@contextmanager
def task(description: str, total: int) -> Iterator[Advance]:
    """Report progress of ``total`` bytes of work; yields ``advance(n_bytes)``."""
    if not should_show(total):
        yield _noop
        return
    from bundlelint.display import printable

    progress = _start()
    task_id = progress.add_task(printable(description), total=total)  # names a file: escaped
    try:
        yield lambda n: progress.advance(task_id, n)
    finally:
        progress.remove_task(task_id)
        _stop()


def _start() -> Any:
    global _progress, _active
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with _lock:
        if _progress is None:
            _progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(file=sys.stderr),
                transient=True,
            )
            _progress.start()
        _active += 1
        return _progress


def _stop() -> None:
    global _progress, _active
    with _lock:
        _active -= 1
        if _active == 0 and _progress is not None:
            _progress.stop()
            _progress = None
