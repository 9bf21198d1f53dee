"""End-to-end CLI behaviour: exit codes, output formats, rules and explain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from appbuilder import developer_id_like, make_app, sealed_app

from bundlelint.cli import main
from bundlelint.reporters.rules_doc import rules_markdown_table
from bundlelint.rules import load_registry
from fixtures.macho_builder import MachOSpec, build_macho

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads(
    (REPO / "bundlelint/reporters/schema/report-v1.schema.json").read_text()
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_exact_text_output_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tool"
    path.write_bytes(build_macho(MachOSpec(arch="x86_64")))
    code, out, _ = run(capsys, "--no-color", str(path))
    assert code == 1
    assert out == (
        "tool\n"
        "  error   BL201 unsigned-code [x86_64] x86_64 slice (EXECUTE) is not signed\n"
        "    fix: codesign --force --options runtime --timestamp --sign \"Developer ID "
        f"Application: YOUR NAME (TEAMID)\" {path}\n"
        "\n"
        "1 error, 0 warnings, 0 info in 1 file (tool). Run `bundlelint explain RULE` for "
        "details.\n"
    )


def test_clean_bundle_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--no-color", str(sealed_app(tmp_path)))
    assert code == 0
    assert out == "No problems found in Sample.app.\n"


def test_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(tmp_path / "nope.app"))
    assert code == 2
    assert "cannot read" in err and "nope.app" in err


@pytest.mark.parametrize("args", [("--select", "BL999"), ("--format", "yaml"),
                                  ("--fail-on", "fatal")])
def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             args: tuple[str, str]) -> None:
    path = make_app(tmp_path)
    code, _, err = run(capsys, *args, str(path))
    assert code == 2
    assert err


def test_fail_on_warning_and_ignore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = sealed_app(tmp_path, info_overrides={"CFBundlePackageType": "BNDL"})  # BL406
    assert run(capsys, str(app))[0] == 0
    assert run(capsys, "--fail-on", "warning", str(app))[0] == 1
    assert run(capsys, "--fail-on", "warning", "--ignore", "BL406", str(app))[0] == 0


def test_json_output_validates_against_schema(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    app = sealed_app(tmp_path, exe_mode=0o644, sign={"flags": 0},
                     info_overrides={"CFBundleIdentifier": "bad_id"})
    code, out, _ = run(capsys, "--format", "json", str(app))
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert code == 1
    assert doc["format_version"] == 1
    assert {f["rule_id"] for f in doc["findings"]} == {"BL203", "BL404", "BL405"}
    assert doc["summary"] == {"errors": 2, "warnings": 1, "info": 0}
    exe = next(f for f in doc["findings"] if f["rule_id"] == "BL203")
    assert exe["path"] == "Sample.app/Contents/MacOS/app" and exe["arch"] == "arm64"


def test_schema_rejects_a_broken_document() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"format_version": 1, "tool": {}, "inputs": [], "summary": {},
                             "findings": [{"rule_id": "nope"}]}, SCHEMA)


def test_rules_json_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "--format", "json")
    assert code == 0
    ids = [r["id"] for r in json.loads(out)]
    assert ids == sorted(ids) and "BL202" in ids and len(ids) == len(load_registry())


def test_explain_renders_all_sections(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "bl202")
    assert code == 0
    for heading in ("BL202 (adhoc-signature)", "What it checks", "Why it matters",
                    "How to fix", "Apple notary messages it answers",
                    "The binary is not signed with a valid Developer ID certificate."):
        assert heading in out


def test_explain_unknown_rule_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "explain", "BL999")[0] == 2


def test_readme_rule_table_matches_registry() -> None:
    readme = (REPO / "README.md").read_text()
    start = readme.index("<!-- rules-table:start -->\n") + len("<!-- rules-table:start -->\n")
    end = readme.index("<!-- rules-table:end -->")
    assert readme[start:end] == rules_markdown_table(load_registry(plugins=False))


def test_python_dash_m_entry_point(tmp_path: Path) -> None:
    path = tmp_path / "tool"
    path.write_bytes(developer_id_like())
    proc = subprocess.run([sys.executable, "-m", "bundlelint", "--format", "json", str(path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["findings"] == []
