"""notary-log: parsing Apple's JSON, mapping each issue to its rule, and the --bundle table."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
from appbuilder import developer_id_like, make_app, universal
from lintutil import REGISTRY
from samples import notary_log

from bundlelint.analysis.notary import NotaryMatcher, bundle_path, map_log
from bundlelint.analysis.notary_catalogue import KNOWN_MESSAGES
from bundlelint.cli import main
from bundlelint.errors import ParseError
from bundlelint.findings import Applicability
from bundlelint.parsers.notary import MAX_LOG_BYTES, parse_notary_log, read_notary_log
from bundlelint.rules.base import Consequence, RuleMeta, notary
from fixtures.cms_signer import cms_callable
from fixtures.macho_builder import MH_DYLIB, MachOSpec, build_macho
from fixtures.signer import sign_macho

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "bundlelint" / "reporters" / "schema"
DOC = ("https://developer.apple.com/documentation/security/"
       "notarizing_macos_software_before_distribution/resolving_common_notarization_issues")
EXE = "Sample.zip/Sample.app/Contents/MacOS/app"
OLD = "Sample.zip/Sample.app/Contents/Frameworks/libold.dylib"
BAD = "Sample.zip/Sample.app/Contents/Frameworks/libbad.dylib"
NOTS = "Sample.zip/Sample.app/Contents/Frameworks/libnots.dylib"
UNKNOWN = "The binary has a property Apple has never written before: ﬂux capacitor."


def issue(message: str, path: str, arch: str | None, anchor: str | None = None,
          severity: str = "error") -> dict[str, Any]:
    return {"severity": severity, "code": None, "path": path, "message": message,
            "docUrl": f"{DOC}{anchor}" if anchor else None, "architecture": arch}


#: A realistic Invalid log for the bundle built by ``problem_app`` (shape: docs/formats.md 7).
INVALID_ISSUES = [
    issue("The binary is not signed.", EXE, "x86_64", "#3087721"),
    issue("The binary is not signed with a valid Developer ID certificate.", EXE, "arm64",
          "#3087721"),
    issue("The executable does not have the hardened runtime enabled.", EXE, "arm64",
          "#3087724"),
    issue("The executable requests the com.apple.security.get-task-allow entitlement.", EXE,
          "arm64", "#3087731"),
    issue("The binary uses an SDK older than the 10.9 SDK.", OLD, "x86_64"),
    issue("The signature of the binary is invalid.", BAD, "arm64", "#3087735"),
    issue("The signature does not include a secure timestamp.", NOTS, "arm64", "#3087733"),
]


def log_doc(issues: list[dict[str, Any]], *, status: str = "Invalid",
            ticket: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    accepted = status == "Accepted"
    return {
        "logFormatVersion": 1,
        "jobId": "2f0a6b7e-1c3d-4e5f-8a9b-0c1d2e3f4a5b",
        "status": status,
        "statusSummary": "Ready for distribution" if accepted
        else "Archive contains critical validation errors",
        "statusCode": 0 if accepted else 4000,
        "archiveFilename": "Sample.zip",
        "uploadDate": "2024-10-17T23:26:50.540Z",
        "sha256": "3b5d5c3712955042212316173ccf37be800b1b3a1e6bb5a0f7b8b8e4d3f0c2aa",
        "ticketContents": ticket,
        "issues": issues,
    }


def write(tmp_path: Path, doc: object, name: str = "log.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2))
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["notary-log", "--no-color", *args])
    out, err = capsys.readouterr()
    return code, out, err


def validate(doc: dict[str, Any]) -> None:
    resources = []
    for name in ("report-v1.schema.json", "notary-log-v1.schema.json"):
        schema = json.loads((SCHEMA_DIR / name).read_text())
        resources.append((schema["$id"], referencing.Resource.from_contents(schema)))
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(resources)
    schema = json.loads((SCHEMA_DIR / "notary-log-v1.schema.json").read_text())
    jsonschema.Draft202012Validator(schema, registry=registry).validate(doc)


# --- the catalogue: every known Apple message has a rule (flake8's test_pyflakes_codes) -------

#: Who should answer each message: rule IDs, or prefixes for rule families still being written.
EXPECTED_OWNERS = {
    "The binary is not signed.": ("BL201",),
    "The binary is not signed with a valid Developer ID certificate.": ("BL202", "BL220"),
    "The executable does not have the hardened runtime enabled.": ("BL203",),
    "The executable requests the com.apple.security.get-task-allow entitlement.": ("BL301",),
    "The binary uses an SDK older than the 10.9 SDK.": ("BL101",),
    "Embedded entitlements are invalid: syntax error near line 1": ("BL302",),
    "The signature does not include a secure timestamp.": ("BL22",),
    "The signature of the binary is invalid.": ("BL210",),
    "The signature algorithm used is too weak.": ("BL21",),
}


def test_every_catalogue_message_maps_to_a_real_rule() -> None:
    matcher = NotaryMatcher(r.meta for r in REGISTRY)
    unmapped = [k.message for k in KNOWN_MESSAGES if matcher.match(k.message).rule.id == "BL790"]
    assert not unmapped, "Apple messages no rule lists in notary_messages/notary_patterns:\n" + \
        "\n".join(unmapped)
    wrong = []
    for known in KNOWN_MESSAGES:
        match = matcher.match(known.message)
        owners = EXPECTED_OWNERS[known.message]
        if not any(c.startswith(o) for c in match.candidates for o in owners):
            wrong.append(f"{known.message!r} -> {match.candidates}, expected {owners}")
        assert match.matched_by == ("pattern" if known.varies else "exact"), known.message
    assert not wrong, "\n".join(wrong)
    assert set(EXPECTED_OWNERS) == {k.message for k in KNOWN_MESSAGES}


def test_priority_exact_before_pattern_lowest_id_then_longest_pattern() -> None:
    def meta(rid: str, messages: tuple[str, ...] = (), patterns: tuple[str, ...] = ()) -> RuleMeta:
        return RuleMeta(id=rid, slug="x", consequence=Consequence.NOTARY_REJECTS,
                        evidence=(notary("x", "https://example.invalid/log"),),
                        summary="x", what="x",
                        why="x", how_to_fix="x", notary_messages=messages,
                        notary_patterns=patterns)

    metas = [meta("BL790"), meta("BL220", ("Same.",)), meta("BL202", ("Same.",)),
             meta("BL300", patterns=(r"^Same",)), meta("BL301", patterns=(r"^Entitlement",)),
             meta("BL302", patterns=(r"^Entitlement \w+ bad",))]
    matcher = NotaryMatcher(metas)
    same = matcher.match("Same.")
    assert (same.rule.id, same.matched_by, same.candidates) == (
        "BL202", "exact", ("BL202", "BL220", "BL300"))
    specific = matcher.match("Entitlement foo bad")
    assert (specific.rule.id, specific.matched_by) == ("BL302", "pattern")
    assert matcher.match("Entitlement other").rule.id == "BL301"
    assert matcher.match("nothing like it").rule.id == "BL790"


@pytest.mark.parametrize(("apple", "expected"), [
    (EXE, "Sample.app/Contents/MacOS/app"),
    ("x.pkg/x.pkg Contents/Payload/Applications/X.app/Contents/MacOS/X",
     "X.app/Contents/MacOS/X"),
    ("x.pkg/x.pkg Contents/Payload/usr/local/bin/tool", "usr/local/bin/tool"),
    ("Sample.zip/Sample.app/Contents/Resources/lib.jar/native/libfoo.dylib",
     "Sample.app/Contents/Resources/lib.jar/native/libfoo.dylib"),
    ("TorBrowser.dmg/Tor.app/Contents/MacOS/Tor/tor-osx64.zip/Tor/tor.real",
     "Tor.app/Contents/MacOS/Tor/tor-osx64.zip/Tor/tor.real"),
    ("tool.zip/tool", "tool"),
    (None, None),
])
def test_archive_paths_map_to_bundle_paths(apple: str | None, expected: str | None) -> None:
    assert bundle_path(apple, "Sample.zip") == expected


# --- parser --------------------------------------------------------------------------------


def test_log_is_parsed_into_frozen_models() -> None:
    ticket = [{"path": "Sample.zip/Sample.app/Contents/MacOS/app", "digestAlgorithm": "SHA-256",
               "cdhash": "ab" * 20, "arch": "arm64"}, {"path": "Sample.zip",
               "digestAlgorithm": "SHA-256", "cdhash": "cd" * 20}]
    log = parse_notary_log(json.dumps(log_doc(INVALID_ISSUES[:2], ticket=ticket)).encode(),
                           "log.json")
    assert (log.kind, log.status, log.status_code, log.log_format_version) == (
        "log", "Invalid", 4000, 1)
    assert log.issues[0].architecture == "x86_64" and log.issues[0].doc_url.endswith("3087721")
    assert log.ticket_contents is not None and log.ticket_contents[1].arch is None
    with pytest.raises(AttributeError):
        log.status = "Accepted"  # type: ignore[misc]


def test_submit_and_info_output_are_tolerated() -> None:
    info = {"createdDate": "2024-10-17T23:20:01.123Z", "id": "2f0a6b7e", "message":
            "Successfully received submission info", "name": "Sample.zip", "status": "Accepted"}
    log = parse_notary_log(json.dumps(info).encode(), "info.json")
    assert (log.kind, log.job_id, log.name, log.issues, log.ticket_contents) == (
        "submission", "2f0a6b7e", "Sample.zip", (), None)


@pytest.mark.parametrize(("data", "offset", "reason"), [
    (b'{"jobId": "x",\n "issues": [}', 27, "line 2 column 13"),
    (b"", 0, "Expecting value"),
    (b'{"jobId": "x", "issues": "no"}', None, "issues is a string, expected an array"),
    (b'{"jobId": 5}', None, "jobId is a number, expected a string"),
    (b'{"jobId": "x", "statusCode": true}', None, "statusCode is a boolean"),
    (b'{"issues": [{"severity": "error"}]}', None, "issues[0].message is missing"),
    (b'{"issues": [42]}', None, "issues[0] is a number, expected an object"),
    (b'[1, 2]', None, "top level is an array"),
    (b'{"hello": 1}', None, "neither a notarytool log"),
    (b'{"jobId": NaN}', None, "NaN is not valid JSON"),
    (b'{"jobId": "\xff"}', 11, "not UTF-8"),
    (b"[" * 100_000, None, "nesting is too deep"),
])
def test_malformed_logs_are_parse_errors_with_file_and_offset(
        data: bytes, offset: int | None, reason: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_notary_log(data, "bad.json")
    assert info.value.path == "bad.json"
    assert info.value.offset == offset
    assert reason in info.value.reason


def test_oversized_input_is_refused_before_it_is_read() -> None:
    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            b[:] = b" " * len(b)
            return len(b)

    with pytest.raises(ParseError, match="more than 1024 bytes"):
        read_notary_log(io.BufferedReader(Endless()), "-", limit=1024)  # type: ignore[arg-type]
    assert MAX_LOG_BYTES == 64 * 1024 * 1024


def test_bom_is_skipped_and_offsets_count_it() -> None:
    log = parse_notary_log(b"\xef\xbb\xbf" + json.dumps(log_doc([])).encode(), "x")
    assert log.status == "Invalid"
    with pytest.raises(ParseError) as info:
        parse_notary_log(b"\xef\xbb\xbf{,", "x")
    assert info.value.offset == 4


# --- the command ---------------------------------------------------------------------------


def test_invalid_log_maps_each_issue_to_its_rule_with_the_fix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, log_doc([*INVALID_ISSUES, issue(UNKNOWN, EXE, "arm64")]))
    code, out, err = run(capsys, str(path), "--format", "json")
    assert code == 1, err
    doc = json.loads(out)
    validate(doc)
    got = [(i["finding"]["rule_id"], i["finding"]["path"], i["finding"]["arch"])
           for i in doc["issues"]]
    assert got == [
        ("BL201", "Sample.app/Contents/MacOS/app", "x86_64"),
        ("BL202", "Sample.app/Contents/MacOS/app", "arm64"),
        ("BL203", "Sample.app/Contents/MacOS/app", "arm64"),
        ("BL301", "Sample.app/Contents/MacOS/app", "arm64"),
        ("BL101", "Sample.app/Contents/Frameworks/libold.dylib", "x86_64"),
        ("BL210", "Sample.app/Contents/Frameworks/libbad.dylib", "arm64"),
        ("BL223", "Sample.app/Contents/Frameworks/libnots.dylib", "arm64"),
        ("BL790", "Sample.app/Contents/MacOS/app", "arm64"),
    ]
    for item in doc["issues"]:
        rule = REGISTRY.meta(item["finding"]["rule_id"])
        assert item["finding"]["message"] == item["apple"]["message"]  # Apple's words, verbatim
        assert item["finding"]["fix"]["text"] == rule.how_to_fix
        assert item["finding"]["severity"] == "error"
    assert doc["issues"][4]["finding"]["fix"]["command"] == (  # not a Go hint: not known Go
        "vtool -show-build Sample.app/Contents/Frameworks/libold.dylib  "
        "# then relink against a current SDK")
    assert doc["issues"][0]["apple"]["doc_url"] == f"{DOC}#3087721"
    assert doc["issues"][7]["finding"]["message"] == UNKNOWN
    assert doc["summary"] == {"issues": 8, "errors": 8, "warnings": 0, "unrecognised": 1}
    assert doc["ticket"] is None and doc["comparison"] is None

    code, text, _ = run(capsys, str(path))
    assert code == 1
    assert "  status    Invalid (4000): Archive contains critical validation errors" in text
    assert "  issues    8 errors, 0 warnings (1 not recognised by bundlelint)" in text
    assert f"  error   BL790 unrecognised-notary-issue [arm64] {UNKNOWN}" in text
    assert "  error   BL201 unsigned-code [x86_64] The binary is not signed." in text
    assert (f"    fix: {REGISTRY.meta('BL203').how_to_fix}") in text


def test_apple_warning_stays_a_warning_and_does_not_fail(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = log_doc([issue(UNKNOWN, EXE, None, severity="warning")], status="Accepted")
    code, out, _ = run(capsys, str(write(tmp_path, doc)), "--format", "json")
    assert code == 0
    assert json.loads(out)["issues"][0]["finding"]["severity"] == "warning"


def test_accepted_log_exits_0_and_lists_the_notarized_cdhashes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ticket = [
        {"path": EXE, "digestAlgorithm": "SHA-256", "cdhash": "a1" * 20, "arch": "x86_64"},
        {"path": EXE, "digestAlgorithm": "SHA-256", "cdhash": "b2" * 20, "arch": "arm64"},
    ]
    path = write(tmp_path, log_doc([], status="Accepted", ticket=ticket))
    code, text, _ = run(capsys, str(path))
    assert code == 0
    assert "  status    Accepted (0): Ready for distribution" in text
    assert "Notarized code (ticketContents): 2 items" in text
    assert f"  Sample.app/Contents/MacOS/app [arm64]  SHA-256 cdhash {'b2' * 20}" in text
    code, out, _ = run(capsys, str(path), "--format", "json")
    doc = json.loads(out)
    validate(doc)
    assert [(t["bundle_path"], t["arch"], t["cdhash"]) for t in doc["ticket"]] == [
        ("Sample.app/Contents/MacOS/app", "x86_64", "a1" * 20),
        ("Sample.app/Contents/MacOS/app", "arm64", "b2" * 20)]


def test_stdin_and_unreadable_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    info = {"id": "x", "status": "Invalid", "message": "Fetched", "name": "a.zip",
            "createdDate": "2024"}
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(json.dumps(info).encode())))
    code, text, _ = run(capsys, "-")
    assert code == 1 and "Notary submission -" in text  # Invalid without issues still fails
    bad = tmp_path / "bad.json"
    bad.write_text('{"jobId": "x", "issues": [')
    code, out, err = run(capsys, str(bad))
    assert code == 2 and out == ""
    assert f"{bad}: invalid notary log JSON at offset 0x1a" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in err


# --- --bundle: Apple's verdict next to a local lint ----------------------------------------


def problem_app(root: Path) -> Path:
    """The bundle the Invalid log above was written for: each problem really present."""
    arm = sign_macho(build_macho(MachOSpec(arch="arm64")), identifier="com.example.app",
                     entitlements={"com.apple.security.get-task-allow": True})
    x86 = build_macho(MachOSpec(arch="x86_64"))
    old = developer_id_like(MachOSpec(arch="x86_64", filetype=MH_DYLIB, build_version=None,
                                      version_min=((10, 6, 0), (10, 7, 0))),
                            identifier="libold", cms=cms_callable())
    bad = bytearray(developer_id_like(MachOSpec(arch="arm64", filetype=MH_DYLIB),
                                      identifier="libbad", cms=cms_callable()))
    nop = bytes(bad).find(b"\x1f\x20\x03\xd5")  # a NOP in __text: the code no longer matches
    bad[nop] ^= 0xFF
    nots = developer_id_like(MachOSpec(arch="arm64", filetype=MH_DYLIB), identifier="libnots",
                             cms=cms_callable(timestamp=False))
    return make_app(root, executable=universal(arm, x86), files={
        "Contents/Frameworks/libold.dylib": old,
        "Contents/Frameworks/libbad.dylib": bytes(bad),
        "Contents/Frameworks/libnots.dylib": nots,
    })


def test_bundle_comparison_shows_the_logged_problems_as_predicted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = problem_app(tmp_path)
    missing = issue("The binary is not signed.",
                    "Sample.zip/Sample.app/Contents/Frameworks/libgone.dylib", "arm64")
    path = write(tmp_path, log_doc([*INVALID_ISSUES, missing]))
    code, out, err = run(capsys, str(path), "--bundle", str(app), "--format", "json")
    assert code == 1, err
    doc = json.loads(out)
    validate(doc)
    comparison = doc["comparison"]
    predicted = {(p["rule_id"], p["path"], p["arch"], p["local"]["rule_id"])
                 for p in comparison["predicted"]}
    assert predicted == {
        ("BL201", "Sample.app/Contents/MacOS/app", "x86_64", "BL201"),
        ("BL202", "Sample.app/Contents/MacOS/app", "arm64", "BL202"),
        ("BL203", "Sample.app/Contents/MacOS/app", "arm64", "BL203"),
        ("BL301", "Sample.app/Contents/MacOS/app", "arm64", "BL301"),
        ("BL101", "Sample.app/Contents/Frameworks/libold.dylib", "x86_64", "BL101"),
        ("BL210", "Sample.app/Contents/Frameworks/libbad.dylib", "arm64", "BL210"),
        ("BL223", "Sample.app/Contents/Frameworks/libnots.dylib", "arm64", "BL223"),
    }
    assert [(m["rule_id"], m["path"]) for m in comparison["missed"]] == [
        ("BL201", "Sample.app/Contents/Frameworks/libgone.dylib")]
    # BL204 (slices signed differently) is an error Apple words as the per-slice issues above,
    # so it is listed as local only; the test CA is not Apple's, so chain findings are too.
    local_only = {f["rule_id"] for f in comparison["local_only"]}
    assert "BL204" in local_only
    assert not local_only & {"BL201", "BL202", "BL203", "BL301", "BL101", "BL210", "BL223"}

    code, text, _ = run(capsys, str(path), "--bundle", str(app))
    assert code == 1
    assert "Apple's verdict next to bundlelint's lint of Sample.app" in text
    assert "7 predicted, 1 missed," in text
    lines = [line for line in text.splitlines() if "│" in line]
    assert any("predicted" in line and "BL301" in line for line in lines)
    assert any("missed" in line and "BL201" in line for line in lines)
    # with the bundle, the fix shown is the local finding's exact command for that file
    assert f"    fix: codesign --force --options runtime --timestamp --entitlements " \
           f"app.entitlements --sign \"Developer ID Application: YOUR NAME (TEAMID)\" {app}" in text


def test_mapping_keeps_candidates_so_any_answering_rule_predicts(tmp_path: Path) -> None:
    log = parse_notary_log(json.dumps(log_doc(INVALID_ISSUES)).encode(), "x")
    mapping = map_log(log, (r.meta for r in REGISTRY))
    dev_id = mapping.issues[1]
    assert dev_id.candidates[0] == "BL202" and "BL220" in dev_id.candidates
    assert dev_id.finding.evidence["matched_by"] == "exact"
    assert dev_id.finding.fix is not None
    assert dev_id.finding.fix.applicability is Applicability.UNSAFE


def test_a_real_package_log_meets_the_package_it_was_written_for(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The notary names a package's payload files below the payload's root
    (``X.pkg/prepare_installation.pkg Contents/Payload/chemistream/conda.exe``, a real log);
    bundlelint shows them below their install location. ``--bundle X.pkg`` still finds each
    logged problem on the local file (a product archive built like the one that log was for)."""
    from fixtures import xar_builder as xb

    sample = notary_log("05-chemistream-pkg-unsigned-conda.json")
    log = json.loads(sample.read_text())
    # Signed with a certificate that is no valid Developer ID (the throwaway test CA, not
    # trusted here), without a timestamp or the hardened runtime: what the log says of it.
    monkeypatch.delenv("BUNDLELINT_EXTRA_TRUST_ANCHOR", raising=False)
    conda = developer_id_like(MachOSpec(arch="x86_64"), identifier="conda", flags=0,
                              cms=cms_callable(timestamp=False))
    payload = xb.gzip_payload(xb.cpio_odc([
        xb.CpioSpec(".", mode=0o40755), xb.CpioSpec("./chemistream", mode=0o40755),
        xb.CpioSpec("./chemistream/conda.exe", conda, mode=0o100755)]))
    package = tmp_path / log["archiveFilename"]
    package.write_bytes(xb.build_xar([
        xb.XarFile("Distribution", xb.distribution([("io.chemistream.prep",
                                                     "prepare_installation.pkg")])),
        xb.XarFile("prepare_installation.pkg/PackageInfo",
                   xb.package_info("io.chemistream.prep", install_location="/opt/anaconda"),
                   encoding="gzip"),
        xb.XarFile("prepare_installation.pkg/Payload", payload)]))
    code, out, err = run(capsys, str(sample), "--bundle", str(package), "--format", "json")
    assert code == 1, err
    comparison = json.loads(out)["comparison"]
    assert comparison["missed"] == []
    predicted = {(p["path"], p["local"]["rule_id"]) for p in comparison["predicted"]}
    assert {path for path, _ in predicted} == {"chemistream/conda.exe"}
    assert len(predicted) == 3  # each of the three logged problems, on the local file
