"""Untrusted strings in every human-facing output are escaped (issue 15, item 3), and a file
name that is not UTF-8 is shown escaped by every reporter and in baselines (item 4).

The attack: a name holding a newline followed by ``::error file=a::pwned`` becomes a GitHub
Actions workflow command when the report is printed in a job's log; ESC and OSC sequences
clear the screen, set the title or plant links on a terminal; bidi overrides disguise a name;
rich markup (``[link=...]``) styles the output. Each case builds the hostile input on disk and
runs the command line.
"""

from __future__ import annotations

import json
import os
import plistlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from appbuilder import developer_id_like, make_app
from ziputil import unix_info

from bundlelint.cli import main
from fixtures.macho_builder import MachOSpec, build_macho
from fixtures.signer import CS_RUNTIME, sign_macho

#: Every kind of control a name can carry: a workflow command after a newline, CSI screen
#: clear, OSC title and OSC 8 link (with BEL and ST terminators), a C1 CSI, a bidi override,
#: a carriage return, and rich markup. No "/": it is a file name.
HOSTILE = ("x\n::error file=a::pwned\r\x1b[2J\x1b]0;title\x07\x1b]8;;https:evil\x1b\\"
           "link\x1b]8;;\x1b\\\x9b31m\u202eevil\u2066[bold red]red[link=https:e]l")


def raw_controls(text: str) -> list[str]:
    """The characters of ``text`` that a terminal or a log would act on (line breaks aside)."""
    return sorted({ch for ch in text if not ch.isprintable() and ch != "\n"})


def assert_inert(text: str, *, github: bool = False) -> None:
    assert raw_controls(text) == []
    for line in text.splitlines():
        if github:
            assert line.startswith(("::error ", "::warning ", "::notice ")), line
        else:
            assert not line.lstrip().startswith("::"), line


def strings(doc: object) -> list[str]:
    """Every string of a parsed JSON document, keys included."""
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for k, v in doc.items() for s in (k, *strings(v))]
    if isinstance(doc, list):
        return [s for v in doc for s in strings(v)]
    return []


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def hostile_app(tmp_path: Path) -> Path:
    """An app whose bundled, unsigned helper has the hostile name (BL201 names it)."""
    return make_app(tmp_path, files={f"Contents/MacOS/{HOSTILE}": build_macho(MachOSpec())})


def test_printable_escapes_every_control_and_keeps_the_rest() -> None:
    from bundlelint.display import json_safe, os_bytes, printable, unicode_safe

    assert printable("plain é 名前 \\n") == "plain é 名前 \\n"
    assert printable("a\nb\r\t\x1b\x7f\x85\x9b") == "a\\nb\\r\\t\\x1b\\x7f\\x85\\x9b"
    assert printable("\u202e\u2066\u200b\u2028\ufeff\xa0") == (
        "\\u202e\\u2066\\u200b\\u2028\\ufeff\\xa0")
    assert printable(os.fsdecode(b"\xff\xfe")) == "\\xff\\xfe"  # the bytes on disk
    assert unicode_safe(os.fsdecode(b"a\xff\n")) == "a\\xff\n"  # JSON keeps controls as data
    assert os_bytes(os.fsdecode(b"a\xff")) == b"a\xff"
    assert json_safe({os.fsdecode(b"\xff"): [os.fsdecode(b"\xfe"), 1]}) == {"\\xff": ["\\xfe", 1]}


def test_text_report_escapes_a_hostile_file_name(hostile_app: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--no-color", str(hostile_app))
    assert code == 1
    assert_inert(out)
    assert "\\n::error file=a::pwned\\r\\x1b[2J\\x1b]0;title\\x07" in out
    assert "\\x9b31m\\u202eevil\\u2066[bold red]red[link=https:e]l" in out


def test_text_report_in_colour_still_escapes(hostile_app: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """With colour on, the only ESC sequences are our own SGR styles (ESC [ ... m)."""
    import re

    from bundlelint.engine import Report
    from bundlelint.findings import Finding, Location, Severity
    from bundlelint.reporters.text import render_text
    from bundlelint.rules import load_registry

    finding = Finding(rule_id="BL201", severity=Severity.ERROR,
                      location=Location(path=HOSTILE), message=HOSTILE)
    import io

    out = io.StringIO()
    render_text([Report(input_name=HOSTILE, findings=(finding,), rules_run=("BL201",))],
                load_registry(plugins=False), out, color=True)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())  # our styling
    assert_inert(text)
    assert "[bold red]red[link=https:e]l" in text  # printed, not interpreted as markup


def test_github_format_escapes_controls_beyond_newlines(
        hostile_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--format", "github", str(hostile_app))
    assert code == 1
    assert_inert(out, github=True)
    assert "\\n%3A%3Aerror file=a%3A%3Apwned" in out  # property escaping on top of printable


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_machine_formats_keep_the_name_as_data_without_raw_controls(
        hostile_app: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out, _ = run(capsys, "--format", fmt, str(hostile_app))
    assert code == 1
    assert_inert(out)
    assert any(HOSTILE in s for s in strings(json.loads(out)))  # exact, as data


def test_symlink_target_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(tmp_path)
    (app / "Contents" / "Resources").mkdir()
    (app / "Contents" / "Resources" / "link").symlink_to(f"/etc/{HOSTILE}")
    _code, out, _ = run(capsys, "--no-color", str(app))
    assert "symlink" in out and "\\n::error file=a::pwned" in out
    assert_inert(out)


def test_zip_entry_and_app_names_are_escaped(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(unix_info(f"{HOSTILE}.app/Contents/MacOS/{HOSTILE}", 0o100755),
                    build_macho(MachOSpec()))
        zf.writestr(unix_info(f"{HOSTILE}.app/../{HOSTILE}", 0o100644), b"x")
    _code, out, err = run(capsys, "--no-color", str(archive))
    assert "::error file=a::pwned" in out
    assert_inert(out)
    assert_inert(err)


def test_entitlement_key_in_bl310_is_escaped(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    key = "com.x\n::error file=a::pwned\x9b2J\u202e[bold]b"  # what an XML plist can hold
    exe = developer_id_like(entitlements={key: True})
    app = make_app(tmp_path, executable=exe)
    (tmp_path / "expected.plist").write_bytes(plistlib.dumps({}))
    config = tmp_path / "bundlelint.toml"
    config.write_text('[expected-entitlements]\n"Contents/MacOS/app" = "expected.plist"\n')
    _code, out, _ = run(capsys, "--no-color", "--config", str(config), "--select", "BL310",
                       str(app))
    assert "BL310" in out and "::error file=a::pwned" in out
    assert_inert(out)


def test_inspect_escapes_identifier_and_team_identifier(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exe = sign_macho(build_macho(MachOSpec()), identifier=HOSTILE, flags=CS_RUNTIME,
                     team_id=HOSTILE)
    path = tmp_path / "tool"
    path.write_bytes(exe)
    code, out, _ = run(capsys, "inspect", str(path))
    assert code == 0
    assert "Identifier=x\\n::error file=a::pwned" in out
    assert "TeamIdentifier=x\\n::error file=a::pwned" in out
    assert_inert(out)
    code, out, _ = run(capsys, "inspect", "--format", "json", str(path))
    assert_inert(out)
    assert HOSTILE in strings(json.loads(out))


def test_notary_log_text_escapes_paths_and_messages(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = {
        "logFormatVersion": 1, "jobId": HOSTILE, "status": "Invalid",
        "statusSummary": HOSTILE, "statusCode": 4000, "archiveFilename": HOSTILE,
        "uploadDate": "2024-01-01T00:00:00Z", "sha256": "00" * 32,
        "issues": [{"severity": "error", "code": None, "path": f"{HOSTILE}.zip/{HOSTILE}",
                    "message": HOSTILE, "docUrl": HOSTILE, "architecture": "arm64"}],
        "ticketContents": [{"path": HOSTILE, "digestAlgorithm": "SHA-256",
                            "cdhash": HOSTILE, "arch": "arm64"}],
    }
    path = tmp_path / "log.json"
    path.write_text(json.dumps(log))
    code, out, _err = run(capsys, "notary-log", "--no-color", str(path))
    assert code == 1
    assert "::error file=a::pwned" in out
    assert_inert(out)
    code, out, _ = run(capsys, "notary-log", "--format", "json", str(path))
    assert_inert(out)


def test_cannot_read_error_escapes_the_path(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(tmp_path / HOSTILE))
    assert code == 2
    assert "cannot read" in err
    assert_inert(err)


# --- non-UTF-8 file names (item 4) ---------------------------------------------------------

BAD_NAME = b"tool\xff\xfe"


@pytest.fixture
def non_utf8_dir(tmp_path: Path) -> Path:
    """A folder holding an unsigned Mach-O whose name is not UTF-8 (BL201 names it)."""
    root = tmp_path / "upload"
    root.mkdir()
    with open(os.path.join(os.fsencode(root), BAD_NAME), "wb") as fh:
        fh.write(build_macho(MachOSpec()))
    return root


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_non_utf8_name_in_every_format(non_utf8_dir: Path, capsys: pytest.CaptureFixture[str],
                                       fmt: str) -> None:
    code, out, err = run(capsys, "--format", fmt, "--no-color", str(non_utf8_dir))
    assert code == 1, err
    assert "Traceback" not in err
    out.encode("utf-8")  # strict: no lone surrogate left
    shown = out if fmt in ("text", "github") else "\n".join(strings(json.loads(out)))
    assert "tool\\xff\\xfe" in shown
    if fmt == "sarif":
        uris = [loc["physicalLocation"]["artifactLocation"]["uri"]
                for r in json.loads(out)["runs"][0]["results"] for loc in r["locations"]]
        assert "upload/tool%FF%FE" in uris  # the real bytes, percent-encoded


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_non_utf8_name_with_output_file(non_utf8_dir: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    report = tmp_path / f"report.{fmt}"
    code, _out, err = run(capsys, "--format", fmt, "--output", str(report), str(non_utf8_dir))
    assert code == 1, err
    text = report.read_text(encoding="utf-8")
    shown = text if fmt in ("text", "github") else "\n".join(strings(json.loads(text)))
    assert "tool\\xff\\xfe" in shown


def test_non_utf8_name_in_a_baseline_matches_again(non_utf8_dir: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "baseline.json"
    code, _, err = run(capsys, "--write-baseline", str(baseline), str(non_utf8_dir))
    assert code == 0, err
    text = baseline.read_text(encoding="utf-8")  # plain UTF-8 JSON
    assert '"path": "tool\\\\xff\\\\xfe"' in text
    code, out, err = run(capsys, "--baseline", str(baseline), "--select", "BL201",
                         str(non_utf8_dir))
    assert (code, out) == (0, "No problems found in upload; 1 finding excused by the "
                           "baseline.\n"), err
    # The same name written literally ("\xff" as text) is another file: not excused.
    other = tmp_path / "other" / "upload"
    other.mkdir(parents=True)
    (other / "tool-other").write_bytes(build_macho(MachOSpec()))
    code, _, _ = run(capsys, "--baseline", str(baseline), "--select", "BL201", str(other))
    assert code == 1


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_non_utf8_name_with_strict_utf8_stdout(non_utf8_dir: Path, fmt: str) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([sys.executable, "-m", "bundlelint", "--format", fmt, "--no-color",
                           str(non_utf8_dir)], capture_output=True, env=env, check=False)
    assert proc.returncode == 1, proc.stderr
    assert b"Traceback" not in proc.stderr
    assert b"tool\\xff\\xfe" in proc.stdout


# --- names that start a line with "::" (no control character needed) ---------------------


def test_a_name_that_starts_a_line_cannot_be_a_workflow_command(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the reporters fuzz target: a bundle named ``::error file=a::x.app`` heads its
    findings' lines in the text report, and ``inspect`` starts lines with file names."""
    app = make_app(tmp_path, name="::error file=a::pwned.app",
                   files={"Contents/MacOS/::warning::helper": build_macho(MachOSpec())})
    code, out, _ = run(capsys, "--no-color", str(app))
    assert code == 1
    assert_inert(out)
    assert "\\x3a:error file=a::pwned.app/Contents/MacOS/::warning::helper" in out.splitlines()
    code, out, _ = run(capsys, "inspect", str(app))
    assert_inert(out)
    # wrapping must not bring the name to the start of a line either
    monkeypatch.setenv("COLUMNS", "40")
    for width_args in (("--no-color",), ("--no-color", "--select", "BL201")):
        code, out, _ = run(capsys, *width_args, str(app))
        assert_inert(out)


def test_unwritable_output_path_is_shown_escaped(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """``--output`` names a file in a folder that does not exist: the error line quotes the
    given path, which may hold any character (it comes from a script's variable)."""
    target = tmp_path / "missing\x1b]0;owned\x07\n::error::x" / "report.json"
    demo = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "Demo.app"
    code, _out, err = run(capsys, "--format", "json", "--output", str(target), str(demo))
    assert code == 2
    assert "cannot write" in err
    assert_inert(err)
