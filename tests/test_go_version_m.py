"""``bundlelint inspect`` against ``go version -m`` (text) and ``go version -m -json`` on every
Go binary the tests have: toolchain builds (no modules; cgo; a local ``replace``; versioned
dependencies with sums from a file proxy, a module-path replacement, ``-trimpath``,
``-ldflags``, ``-buildmode=pie``, ``-tags`` and git VCS stamping, clean and modified) and real
published binaries (lefthook go1.27.0, app-builder go1.21.1).

The oracle is the Go toolchain the test extra installs: its JSON is ``runtime/debug.BuildInfo``
marshalled by ``encoding/json`` (every field ``omitempty`` except ``Main``), its text is
``BuildInfo.String`` indented by ``cmd/go/internal/version``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import toolchain

from bundlelint.cli import main

pytestmark = pytest.mark.toolchain

BUILT_GO = ("go_hello_arm64", "go_hello_amd64", "go_cgo_arm64", "go_fyne_nocgo_arm64",
            "go_fyne_cgo_arm64", "go_modapp_amd64", "go_modapp_dirty_arm64")
REAL_GO = ("lefthook-darwin-arm64", "lefthook-darwin-x64", "app-builder-darwin-arm64",
           "app-builder-darwin-x64")


def _go(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([toolchain.go_executable(), "version", *args], capture_output=True,
                          text=True, check=False)


def _inspect(capsys: pytest.CaptureFixture[str], path: Path, fmt: str) -> str:
    assert main(["inspect", "--format", fmt, str(path)]) == 0
    return capsys.readouterr().out


def _omit_empty(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v not in ("", None, [], {})}


def _go_module(mod: dict[str, Any] | None) -> dict[str, Any]:
    """Our module record in ``debug.Module``'s JSON shape."""
    if mod is None:
        return {}
    return _omit_empty({"Path": mod["path"], "Version": mod["version"], "Sum": mod["sum"],
                        "Replace": _go_module(mod["replace"]) if mod["replace"] else None})


def _as_go_json(go: dict[str, Any]) -> dict[str, Any]:
    """Our ``inspect`` JSON ``go`` record in ``debug.BuildInfo``'s JSON shape."""
    bi = go["build_info"]
    out = _omit_empty({
        "GoVersion": go["version"], "Path": bi["path"],
        "Deps": [_go_module(d) for d in bi["deps"]],
        "Settings": [_omit_empty({"Key": s["key"], "Value": s["value"]})
                     for s in bi["settings"]],
    })
    out["Main"] = _go_module(bi["main"])
    return out


def _assert_agrees(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """Every field and every line of ``go version -m`` equals what ``inspect`` shows."""
    go_json = _go("-m", "-json", str(path))
    go_text = _go("-m", str(path))
    assert go_json.returncode == 0 and go_text.returncode == 0, go_json.stderr
    doc = json.loads(_inspect(capsys, path, "json"))
    [f] = doc["files"]
    [sl] = f["slices"]
    go = sl["go"]
    assert go["version_source"] == "build info" and go["build_info_error"] is None
    # JSON: version, path, main module, every dep (version, sum, replace) and every setting
    assert _as_go_json(go) == json.loads(go_json.stdout)
    # text: the lines after "FILE: goX" are ours, tab-indented
    head, *lines = go_text.stdout.splitlines()
    assert head == f"{path}: {go['version']}"
    assert lines == [f"\t{line}" for line in go["build_info"]["lines"]]
    # inspect's text shows the same lines (tabs as spaces), in order, as one block
    shown = [ln.replace("\t", " ").rstrip(" ") for ln in go["build_info"]["lines"] if ln]
    text = _inspect(capsys, path, "text").splitlines()
    start = text.index(f"      {shown[0]}")
    assert text[start:start + len(shown)] == [f"      {line}" for line in shown]
    assert f"    Go={go['version']} (from build info)" in text
    return go


def _settings(go: dict[str, Any]) -> dict[str, str]:
    return {s["key"]: s["value"] for s in go["build_info"]["settings"]}


@pytest.mark.parametrize("fixture", BUILT_GO)
def test_toolchain_builds_agree_with_go_version_m(fixture: str, request: pytest.FixtureRequest,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    go = _assert_agrees(request.getfixturevalue(fixture), capsys)
    settings = _settings(go)
    assert settings["GOOS"] == "darwin" and settings["-compiler"] == "gc"


def test_versioned_deps_replaces_trimpath_and_vcs(go_modapp_amd64: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    go = _assert_agrees(go_modapp_amd64, capsys)
    bi = go["build_info"]
    deps = {d["path"]: d for d in bi["deps"]}
    assert deps["example.org/gizmo"]["version"] == "v1.2.3"
    assert deps["example.org/gizmo"]["sum"].startswith("h1:")
    assert deps["example.org/gizmo"]["replace"] is None
    widget = deps["example.org/widget"]
    assert (widget["version"], widget["sum"]) == ("v0.4.0", "")  # a replaced dep has no sum
    assert widget["replace"]["path"] == "example.org/widget-fork"
    assert widget["replace"]["version"] == "v0.4.1"
    assert widget["replace"]["sum"].startswith("h1:")
    assert deps["example.org/local"]["replace"] == {"path": "./local", "version": "(devel)",
                                                   "sum": "", "replace": None}
    assert bi["main"]["version"].startswith("v0.0.0-20240102030405-")  # from the VCS stamp
    settings = _settings(go)
    assert settings["-trimpath"] == "true" and settings["GOAMD64"] == "v1"
    # cmd/go/internal/load/pkg.go setBuildInfo: -ldflags is not recorded under -trimpath
    assert "-ldflags" not in settings
    assert settings["vcs"] == "git" and settings["vcs.modified"] == "false"
    assert len(settings["vcs.revision"]) == 40 and settings["vcs.time"] == "2024-01-02T03:04:05Z"
    assert go["toolkits"] == []


def test_modified_tree_pie_tags_and_quoted_ldflags(go_modapp_dirty_arm64: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    go = _assert_agrees(go_modapp_dirty_arm64, capsys)
    settings = _settings(go)
    assert settings["vcs.modified"] == "true"
    assert go["build_info"]["main"]["version"].endswith("+dirty")
    assert settings["-buildmode"] == "pie" and settings["-tags"] == "netgo,osusergo"
    assert settings["-ldflags"] == "-X 'main.version=2.0 dirty'"
    assert "build\t-ldflags=\"-X 'main.version=2.0 dirty'\"" in go["build_info"]["lines"]
    assert settings["GOARM64"] == "v8.0" and "-trimpath" not in settings


@pytest.mark.parametrize("cgo", [False, True])
def test_toolkit_from_dependencies(cgo: bool, request: pytest.FixtureRequest,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = request.getfixturevalue("go_fyne_cgo_arm64" if cgo else "go_fyne_nocgo_arm64")
    go = _assert_agrees(path, capsys)
    assert go["toolkits"] == [{"name": "Fyne", "kind": "known", "module": "fyne.io/fyne/v2",
                               "version": "v2.5.0", "replaced_by": "./fyne.io/fyne/v2"}]
    text = _inspect(capsys, path, "text")
    assert "    Toolkit=Fyne fyne.io/fyne/v2 v2.5.0 => ./fyne.io/fyne/v2\n" in text


@pytest.mark.realbin
@pytest.mark.parametrize("name", REAL_GO)
def test_real_go_binaries_agree_with_go_version_m(name: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from realbins import catalogue, fetch

    go = _assert_agrees(fetch(name), capsys)
    [facts] = catalogue()[name]["facts"]["slices"]
    assert go["version"] == facts["go_version"]
    assert go["build_info"]["path"] == facts["go_main_path"]


@pytest.mark.realbin
def test_app_builder_names_its_module(capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's example: neither inspect nor check named app-builder's module."""
    from realbins import fetch

    go = _assert_agrees(fetch("app-builder-darwin-arm64"), capsys)
    assert go["version"] == "go1.21.1"
    assert go["build_info"]["main"] == {"path": "github.com/develar/app-builder",
                                        "version": "(devel)", "sum": "", "replace": None}
    settings = _settings(go)
    assert settings["CGO_ENABLED"] == "1" and settings["-ldflags"] == "-s -w"
    assert settings["vcs.revision"] == "6c7d1e12cec9c30ac851189822b0b34af194a56e"
    assert settings["vcs.modified"] == "true"
    assert len(go["build_info"]["deps"]) == 33 and go["toolkits"] == []


@pytest.mark.realbin
def test_stripped_build_info_shows_the_runtime_version(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    from realbins import fetch

    path = fetch("esbuild-darwin-arm64")
    assert "not a Go executable" in _go("-m", str(path)).stderr
    [sl] = json.loads(_inspect(capsys, path, "json"))["files"][0]["slices"]
    assert sl["go"]["version"] == "go1.26.5"
    assert sl["go"]["version_source"] == "runtime string"
    assert sl["go"]["build_info"] is None
    assert "    Go build info: none (stripped)" in _inspect(capsys, path, "text")


def test_universal_file_has_each_slices_build_info(fat_go_hello: Path, go_hello_arm64: Path,
                                                   go_hello_amd64: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # go version -m reads no universal file; each slice equals its thin original
    slices = json.loads(_inspect(capsys, fat_go_hello, "json"))["files"][0]["slices"]
    thin = [json.loads(_inspect(capsys, p, "json"))["files"][0]["slices"][0]
            for p in (go_hello_arm64, go_hello_amd64)]
    for ours, expected in zip(slices, thin, strict=True):
        assert {**ours["go"]["build_info"], "offset": 0} == {
            **expected["go"]["build_info"], "offset": 0}


def test_not_go_has_no_go_record(zig_main_arm64: Path, capsys: pytest.CaptureFixture[str]
                                 ) -> None:
    [sl] = json.loads(_inspect(capsys, zig_main_arm64, "json"))["files"][0]["slices"]
    assert sl["go"] is None
    assert "Go=" not in _inspect(capsys, zig_main_arm64, "text")


def test_hostile_module_path_is_escaped(go_hello_arm64: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A path line holding ESC, BEL, a bidi override and '::' stays inert in text and exact in
    JSON (same byte length, so the blob still parses)."""
    data = go_hello_arm64.read_bytes()
    original = b"path\tcommand-line-arguments\n"
    hostile = "\x1b]0;x\x07::error::\u202e"
    encoded = hostile.encode().ljust(len(b"command-line-arguments"), b"A")
    assert original in data  # the blob, and the runtime's copy of it
    patched = tmp_path / "hostile"
    patched.write_bytes(data.replace(original, b"path\t" + encoded + b"\n"))
    [sl] = json.loads(_inspect(capsys, patched, "json"))["files"][0]["slices"]
    assert sl["go"]["build_info"]["path"] == encoded.decode()
    text = _inspect(capsys, patched, "text")
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "      path \\x1b]0;x\\x07::error::\\u202e" in text
