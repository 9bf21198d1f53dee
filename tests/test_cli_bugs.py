"""Issue 14's newcomer bugs, one test each: honest errors for unreadable inputs, a plan only for
something signable, counts a baseline hid, inputs kept apart, and one validator per setting."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import jsonschema
import pytest
from appbuilder import make_app
from lintutil import by_rule, lint

from bundlelint.bundle import Bundle
from bundlelint.cli import main
from bundlelint.commands.plan import build_plan
from bundlelint.inputs.single import SingleFileSource
from fixtures.macho_builder import MachOSpec, build_macho

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo" / "Demo.app"
SCHEMA = json.loads((REPO / "bundlelint/reporters/schema/report-v1.schema.json").read_text())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _unreadable(kind: str, tmp_path: Path) -> str:
    if kind == "missing":
        return str(tmp_path / "nonexistent" / "Foo.app")
    if kind == "fifo":
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        return str(fifo)
    return os.devnull


@pytest.mark.parametrize("kind", ["missing", "fifo", "devnull"])
def test_unreadable_input_prints_only_the_error(tmp_path: Path, kind: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = _unreadable(kind, tmp_path)
    code, out, err = run(capsys, "--no-color", path)
    assert code == 2
    assert out == ""  # was "No problems found in ." beside the error
    assert err.startswith(f"bundlelint: error: cannot read {path}")


@pytest.mark.parametrize("kind", ["missing", "fifo", "devnull"])
def test_unreadable_input_is_an_error_record_in_json(tmp_path: Path, kind: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = _unreadable(kind, tmp_path)
    code, out, _ = run(capsys, "--format", "json", path)
    assert code == 2
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    [record] = doc["input_errors"]
    assert record["path"] == Path(path).name and record["reason"]
    code, out, _ = run(capsys, "--format", "sarif", path)
    [invocation] = json.loads(out)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and Path(path).name in note["message"]["text"]


def test_plan_refuses_a_text_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not code\n")
    code, out, err = run(capsys, "plan", str(notes))
    assert (code, out) == (2, "")
    assert "notes.txt is not a Mach-O file or an app bundle" in err


def test_plan_refuses_a_zip_instead_of_planning_for_an_app_that_is_not_there(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "demo.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(DEMO.rglob("*")):
            zf.write(file, str(file.relative_to(DEMO.parent)))
    before = archive.read_bytes()
    code, out, err = run(capsys, "plan", str(archive))
    assert (code, out) == (2, "")
    assert "unzip" in err and "not an archive" in err
    assert archive.read_bytes() == before


def test_plan_never_names_the_input_as_its_output_archive(tmp_path: Path) -> None:
    # Case-insensitive disks (the macOS default) make tool.ZIP and tool.zip one file.
    tool = tmp_path / "tool.ZIP"
    tool.write_bytes(build_macho(MachOSpec(arch="arm64")))
    plan = build_plan(Bundle(SingleFileSource(tool), str(tool)))
    [ditto] = [c for c in plan.notarize if c.startswith("ditto ")]
    output = ditto.split()[-1]
    assert output.casefold() != str(tool).casefold()
    assert output.endswith("tool-notarize.zip")


def test_bl403_empty_macos_says_the_executable_is_missing(tmp_path: Path) -> None:
    app = make_app(tmp_path, exe_name="demo", info_overrides={"CFBundleExecutable": "demo"})
    (app / "Contents" / "MacOS" / "demo").unlink()
    [finding] = by_rule(lint(app), "BL403")
    assert "the executable is missing" in finding.message
    assert finding.fix is not None
    assert finding.fix.command is None  # was `plutil -replace CFBundleExecutable -string demo`
    assert "Contents/MacOS/demo" in finding.fix.text


def test_quiet_json_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-q", "--format", "json", str(DEMO))
    assert code == 1
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    summary = doc["summary"]
    assert summary["errors"] + summary["warnings"] + summary["info"] == len(doc["findings"])
    assert summary["errors"] > 0


def test_baseline_says_how_many_findings_it_excused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "baseline.json"
    assert run(capsys, "--write-baseline", str(baseline), str(DEMO))[0] == 0
    recorded = len(json.loads(baseline.read_text())["findings"])
    code, out, err = run(capsys, "--no-color", "--baseline", str(baseline), str(DEMO))
    assert (code, err) == (0, "")
    assert out == f"No problems found in Demo.app; {recorded} findings excused by the baseline.\n"
    code, out, err = run(capsys, "--format", "json", "--baseline", str(baseline), str(DEMO))
    assert err == f"bundlelint: the baseline {baseline} excused {recorded} findings\n"
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert doc["summary"]["baselined"] == recorded and doc["findings"] == []


def test_inputs_of_the_same_name_stay_apart(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    app = tmp_path / "Demo.app"
    shutil.copytree(DEMO, app, symlinks=True)
    archive = tmp_path / "demo.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(app.rglob("*")):
            zf.write(file, str(file.relative_to(tmp_path)))
    code, out, _ = run(capsys, "--format", "json", str(app), str(archive))
    assert code == 1
    doc = json.loads(out)
    assert doc["inputs"] == ["Demo.app", "demo.zip/Demo.app"]
    from_dir = [f for f in doc["findings"] if f["path"].startswith("Demo.app/")]
    from_zip = [f for f in doc["findings"] if f["path"].startswith("demo.zip/Demo.app/")]
    assert from_dir and len(from_dir) == len(from_zip)
    assert len(from_dir) + len(from_zip) == len(doc["findings"])
    code, out, _ = run(capsys, "--no-color", str(app), str(archive))
    assert "in 4 files (Demo.app, demo.zip/Demo.app)" in out.splitlines()[-1]


def test_bad_trust_anchor_gets_a_plain_message(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    pem = b"-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n"
    for name, data in (("bad.der", b"garbage"), ("bad.pem", pem)):
        anchor = tmp_path / name
        anchor.write_bytes(data)
        code, out, err = run(capsys, "--trust-anchor", str(anchor), str(DEMO))
        assert (code, out) == (2, "")
        assert err == (f"bundlelint: error: trust anchor {anchor} is not an X.509 certificate "
                       f"(read as {name[-3:].upper()}; give a PEM or DER certificate file)\n")


@pytest.mark.parametrize("flag,key,value", [
    ("--expected-team-id", "expected-team-id", "bad"),
    ("--expected-team-id", "expected-team-id", "abcde12345"),
    ("--bundle-identifier", "bundle-identifier", "has space"),
    ("--bundle-identifier", "bundle-identifier", "com.example_app"),
])
def test_command_line_and_configuration_refuse_the_same_values(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, key: str,
        value: str) -> None:
    code, out, err = run(capsys, "--isolated", flag, value, str(DEMO))
    assert (code, out) == (2, "")
    assert repr(value) in err
    config = tmp_path / "bundlelint.toml"
    config.write_text(f"{key} = {json.dumps(value)}\n")
    code, out, err = run(capsys, "--config", str(config), str(DEMO))
    assert (code, out) == (2, "")
    assert f"{key}: must be" in err and repr(value) in err


def test_valid_identifiers_pass_both_ways(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bundlelint.toml"
    config.write_text('expected-team-id = "ABCDE12345"\nbundle-identifier = "com.example-1.app"\n')
    assert run(capsys, "--config", str(config), str(DEMO))[0] == 1
    assert run(capsys, "--isolated", "--expected-team-id", "ABCDE12345", "--bundle-identifier",
               "com.example-1.app", str(DEMO))[0] == 1
