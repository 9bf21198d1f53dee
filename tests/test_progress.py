"""Progress bars: on a terminal for big work only; a no-op everywhere else."""

from __future__ import annotations

import io

import pytest

from bundlelint import progress


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress.task("Hashing", 10 * progress.THRESHOLD) as advance:
        assert advance is progress._noop
        advance(5)
    assert capsys.readouterr() == ("", "")


def test_no_bar_for_small_work(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = FakeTTY()
    monkeypatch.setattr("sys.stderr", tty)
    assert progress.should_show(progress.THRESHOLD)
    assert not progress.should_show(progress.THRESHOLD - 1)
    with progress.task("Hashing", 1024) as advance:
        assert advance is progress._noop
    assert tty.getvalue() == ""


def test_bar_on_a_terminal_for_big_work(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    tty = FakeTTY()
    monkeypatch.setattr("sys.stderr", tty)
    total = 2 * progress.THRESHOLD
    with progress.task("Hashing demo", total) as advance:
        assert advance is not progress._noop
        with progress.task("Hashing inner", total) as inner:  # nested: one shared display
            inner(total)
        advance(total)
        assert progress._progress is not None
    assert progress._progress is None and progress._active == 0
    assert "Hashing demo" in tty.getvalue()
    assert capsys.readouterr().out == ""  # never on stdout


def test_disabled_and_env_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", FakeTTY())
    progress.set_enabled(False)
    try:
        assert not progress.should_show(10 * progress.THRESHOLD)
    finally:
        progress.set_enabled(True)
    monkeypatch.setenv("BUNDLELINT_NO_PROGRESS", "1")
    assert not progress.should_show(10 * progress.THRESHOLD)
