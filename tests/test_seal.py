"""CodeResources parsing (parsers/coderesources.py) and seal verification (analysis/seal.py)."""

from __future__ import annotations

import os
import plistlib
import re
from pathlib import Path

import pytest
from appbuilder import developer_id_like, make_app
from hypothesis import given, settings
from hypothesis import strategies as st

from bundlelint.analysis.seal import (
    IssueKind,
    RuleMatcher,
    find_rule,
    sealed_bundles,
    verify_seal,
)
from bundlelint.bundle import open_input
from bundlelint.errors import ParseError
from bundlelint.parsers.coderesources import (
    DEFAULT_RULES2,
    ResourceRule,
    default_rules2,
    parse_code_resources,
)
from fixtures.macho_builder import MH_DYLIB, MachOSpec
from fixtures.sealer import seal_bundle

APPEX_INFO = plistlib.dumps({"CFBundleExecutable": "ext", "CFBundleIdentifier": "com.ex.ext"})
FW_INFO = plistlib.dumps({"CFBundleExecutable": "Kit", "CFBundleIdentifier": "com.ex.kit"})


def sealed_app(tmp_path: Path) -> Path:
    """An app with resources, a localisation, a symlink, a nested dylib, an appex and a
    versioned framework, sealed inside-out."""
    app = make_app(tmp_path, files={
        "Contents/Resources/readme.txt": b"read me",
        "Contents/Resources/en.lproj/Main.strings": b'"a" = "b";',
        "Contents/Resources/Base.lproj/Main.nib": b"nib",
        "Contents/PkgInfo": b"APPL????",
        "Contents/Frameworks/libhelper.dylib": developer_id_like(
            MachOSpec(filetype=MH_DYLIB), identifier="libhelper"),
        "Contents/PlugIns/Ext.appex/Contents/Info.plist": APPEX_INFO,
        "Contents/PlugIns/Ext.appex/Contents/MacOS/ext": developer_id_like(identifier="ext"),
        "Contents/Frameworks/Kit.framework/Versions/A/Kit": developer_id_like(
            MachOSpec(filetype=MH_DYLIB), identifier="kit"),
        "Contents/Frameworks/Kit.framework/Versions/A/Resources/Info.plist": FW_INFO,
        "Contents/Frameworks/Kit.framework/Versions/A/Resources/data.bin": b"\0\1\2",
    })
    os.symlink("readme.txt", app / "Contents/Resources/link.txt")
    fw = app / "Contents/Frameworks/Kit.framework"
    os.symlink("A", fw / "Versions/Current")
    os.symlink("Versions/Current/Kit", fw / "Kit")
    os.symlink("Versions/Current/Resources", fw / "Resources")
    seal_bundle(app)
    return app


def _seals(app: Path) -> dict[str, object]:
    return {s.bundle_dir.relpath: s for s in sealed_bundles(open_input(app))}


def test_sealed_app_verifies_clean_including_nested_bundles(tmp_path: Path) -> None:
    app = sealed_app(tmp_path)
    seals = _seals(app)
    assert set(seals) == {"", "Contents/PlugIns/Ext.appex", "Contents/Frameworks/Kit.framework"}
    for seal in seals.values():
        assert seal.error is None and seal.issues == (), seal  # type: ignore[attr-defined]
    root = seals[""]
    assert root.version == "v2" and root.sealed_count == 7  # type: ignore[attr-defined]
    doc = parse_code_resources((app / "Contents/_CodeSignature/CodeResources").read_bytes(), "x")
    assert doc.files2["Resources/link.txt"].symlink == "readme.txt"
    assert doc.files2["PlugIns/Ext.appex"].cdhash is not None
    assert doc.files2["Frameworks/libhelper.dylib"].requirement == 'identifier "libhelper.dylib"'
    assert doc.files2["Resources/en.lproj/Main.strings"].optional
    assert "MacOS/app" not in doc.files2 and "Info.plist" not in doc.files2


def test_flipped_byte_in_sealed_resource_is_modified(tmp_path: Path) -> None:
    app = sealed_app(tmp_path)
    (app / "Contents/Resources/readme.txt").write_bytes(b"read mE")
    [issue] = _seals(app)[""].issues  # type: ignore[attr-defined]
    assert issue.kind is IssueKind.MODIFIED
    assert issue.path == "Sample.app/Contents/Resources/readme.txt"


def test_added_missing_and_optional(tmp_path: Path) -> None:
    app = sealed_app(tmp_path)
    (app / "Contents/Resources/extra.txt").write_bytes(b"late")
    (app / "Contents/Resources/.DS_Store").write_bytes(b"omitted by rules2")
    (app / "Contents/Resources/Base.lproj/Main.nib").unlink()
    (app / "Contents/Resources/en.lproj/Main.strings").unlink()  # optional: no issue
    issues = {(i.kind, i.relpath) for i in _seals(app)[""].issues}  # type: ignore[attr-defined]
    assert issues == {(IssueKind.ADDED, "Resources/extra.txt"),
                      (IssueKind.MISSING, "Resources/Base.lproj/Main.nib")}


def test_symlink_retargeted(tmp_path: Path) -> None:
    app = sealed_app(tmp_path)
    link = app / "Contents/Resources/link.txt"
    link.unlink()
    os.symlink("elsewhere", link)
    [issue] = _seals(app)[""].issues  # type: ignore[attr-defined]
    assert issue.kind is IssueKind.MODIFIED and issue.actual == "elsewhere"


def test_nested_code_resigned_after_sealing(tmp_path: Path) -> None:
    app = sealed_app(tmp_path)
    (app / "Contents/Frameworks/libhelper.dylib").write_bytes(
        developer_id_like(MachOSpec(filetype=MH_DYLIB), identifier="other"))
    [issue] = _seals(app)[""].issues  # type: ignore[attr-defined]
    assert (issue.kind, issue.relpath) == (IssueKind.NESTED, "Frameworks/libhelper.dylib")


def test_framework_resource_changed_is_blamed_on_the_framework_seal(tmp_path: Path) -> None:
    app = sealed_app(tmp_path)
    (app / "Contents/Frameworks/Kit.framework/Versions/A/Resources/data.bin").write_bytes(b"x")
    seals = _seals(app)
    [issue] = seals["Contents/Frameworks/Kit.framework"].issues  # type: ignore[attr-defined]
    assert (issue.kind, issue.relpath) == (IssueKind.MODIFIED, "Resources/data.bin")
    assert seals[""].issues == ()  # type: ignore[attr-defined]


def test_unsealed_bundle_is_not_present(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    bundle = open_input(app)
    assert not verify_seal(bundle, bundle.bundle_dirs[0]).present
    assert list(sealed_bundles(bundle)) == []


@pytest.mark.parametrize(("path", "pattern"), [
    ("Info.plist", "^Info\\.plist$"),
    ("PkgInfo", "^PkgInfo$"),
    ("Resources/a.png", "^Resources/"),
    ("Resources/en.lproj/x.strings", "^Resources/.*\\.lproj/"),
    ("Resources/Base.lproj/x.nib", "^Resources/Base\\.lproj/"),
    ("Resources/fr.lproj/locversion.plist", "^Resources/.*\\.lproj/locversion.plist$"),
    ("Resources/deep/.DS_Store", "^(.*/)?\\.DS_Store$"),
    ("MacOS/helper", "^(Frameworks|SharedFrameworks|PlugIns|Plug-ins|XPCServices|Helpers|MacOS|"
                     "Library/(Automator|Spotlight|LoginItems))/"),
    ("top-level-file", "^[^/]+$"),
    ("Library/LaunchServices/x", "^.*"),
    ("App.dSYM/Contents/x", ".*\\.dSYM($|/)"),
])
def test_highest_weight_wins(path: str, pattern: str) -> None:
    rules = default_rules2()
    rule = find_rule(rules, path)
    assert rule is not None and rule.pattern == pattern
    assert RuleMatcher(rules)(path) is rule


_PATTERNS = st.sampled_from([
    *DEFAULT_RULES2, "^Resources/", "^Resources/a", "^a$", "^a\\.b$", "^a b", "^", "^$",
    "^Resources/a$", "a", "^[ab]", "b$", "^a\\$", "^a-b/", "^a,b", "^a\\.", "^a\\b",
])
_RULE_SETS = st.lists(st.tuples(_PATTERNS, st.sampled_from([1.0, 10.0, 20.0, 20.0, 1000.0]),
                                st.booleans()), max_size=8)
_PATHS = st.text(alphabet="ab./\n$ -,R", max_size=8) | st.sampled_from([
    "Resources/a", "Resources/a.b", "a", "a.b", "a\n", "Info.plist", "Resources/x.lproj/y",
    "Resources/", "a b", "a-b/c", "a,b", "a$"])


@settings(max_examples=300, deadline=None)
@given(_RULE_SETS, st.lists(_PATHS, min_size=1, max_size=6))
def test_rule_matcher_chooses_as_find_rule_does(spec: list[tuple[str, float, bool]],
                                                paths: list[str]) -> None:
    rules = tuple(
        ResourceRule(p, re.compile(p), weight=w, exclusion=excl) for p, w, excl in spec)
    match = RuleMatcher(rules)
    for path in paths:
        assert match(path) is find_rule(rules, path), (path, spec)


HOSTILE = [
    b"garbage, not a plist",
    b"bplist00\xff\xff",
    plistlib.dumps(["a", "list"]),
    plistlib.dumps({"unrelated": 1}),
    plistlib.dumps({"files2": {"a": 5}}),
    plistlib.dumps({"files2": {"a": {"hash2": b"short"}}}),
    plistlib.dumps({"files2": {"a": {"symlink": "x", "hash2": b"\0" * 32}}}),
    plistlib.dumps({"rules2": {"(": True}}),
    plistlib.dumps({"rules2": {"^(a+)+$": True}}),
    plistlib.dumps({"rules2": {"^a": {"weight": "heavy"}}}),
    plistlib.dumps({"rules2": {"^a": {"omit": 1}}}),
    plistlib.dumps({"rules2": ["^a"]}),
]


@pytest.mark.parametrize("data", HOSTILE)
def test_hostile_code_resources_raise_parse_error_with_path(data: bytes) -> None:
    with pytest.raises(ParseError) as info:
        parse_code_resources(data, "X.app/Contents/_CodeSignature/CodeResources")
    assert info.value.path == "X.app/Contents/_CodeSignature/CodeResources"


def test_garbage_code_resources_is_an_error_result(tmp_path: Path) -> None:
    app = sealed_app(tmp_path)
    (app / "Contents/_CodeSignature/CodeResources").write_bytes(b"\0garbage")
    root = _seals(app)[""]
    assert root.error is not None and root.issues == ()  # type: ignore[attr-defined]


def test_members_of_nested_archives_are_not_files_added_after_signing(tmp_path: Path) -> None:
    """A dylib inside a sealed .jar is scanned as code (BL201) but the seal covers the jar
    file itself, so the member must not be reported as added after signing."""
    import io
    import zipfile

    from appbuilder import make_app
    from lintutil import by_rule, lint

    from fixtures.macho_builder import MachOSpec, build_macho
    from fixtures.sealer import seal_bundle

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("native/libfoo.dylib",
                    build_macho(MachOSpec(filetype=0x6, id_dylib="@rpath/libfoo.dylib")))
    app = make_app(tmp_path, files={"Contents/Resources/lib.jar": buf.getvalue()})
    seal_bundle(app)
    report = lint(app)
    assert not by_rule(report, "BL232")
    [unsigned] = by_rule(report, "BL201")
    assert unsigned.location.path == "Sample.app/Contents/Resources/lib.jar/native/libfoo.dylib"
    # and the jar itself is sealed: changing it is reported
    jar = app / "Contents" / "Resources" / "lib.jar"
    jar.write_bytes(jar.read_bytes() + b"\0")
    assert [f.location.path for f in by_rule(lint(app), "BL230")] == [
        "Sample.app/Contents/Resources/lib.jar"]


def test_v1_files_of_a_v2_seal_are_decoded_only_when_read() -> None:
    # Apple's verifier reads files2 when the seal has a v2 part; files (v1) is then not parsed
    # up front (it is half of a big seal), and a malformed v1 entry surfaces only if read.
    good2 = {"a": {"hash": b"\1" * 20, "hash2": b"\2" * 32}}
    seal = parse_code_resources(plistlib.dumps({"files": {"a": 5}, "files2": good2}), "CR")
    assert seal.has_v2 and seal.files2["a"].hash2 == b"\2" * 32
    with pytest.raises(ParseError, match=r"files\['a'\]"):
        len(seal.files)
    ok = parse_code_resources(plistlib.dumps({"files": {"a": b"\3" * 20}, "files2": good2}), "CR")
    assert dict(ok.files)["a"].hash == b"\3" * 20
    with pytest.raises(ParseError):  # v1 only: validated at once
        parse_code_resources(plistlib.dumps({"files": {"a": 5}, "rules": {}}), "CR")
