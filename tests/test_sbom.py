"""``bundlelint sbom``: CycloneDX 1.6 JSON validated by cyclonedx-python-lib's strict JSON
validator (the CycloneDX schema it ships), SPDX 2.3 JSON validated against the official SPDX
2.3 schema (tests/schemas) plus the rules that schema leaves out. Facts are checked against
``inspect`` (cdhashes, signer), ``go version -m -json`` (modules) and the fixtures' own specs.
"""

from __future__ import annotations

import base64
import json
import plistlib
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from appbuilder import DEFAULT_INFO, developer_id_like, make_app
from sbomcheck import assert_valid_cyclonedx, assert_valid_spdx

from bundlelint.cli import main
from fixtures.macho_builder import MH_DYLIB, MachOSpec, build_macho

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo" / "Demo.app"


def sbom(capsys: pytest.CaptureFixture[str], path: Path, fmt: str = "cyclonedx-json",
         *extra: str) -> dict[str, Any]:
    assert main(["sbom", "--format", fmt, *extra, str(path)]) == 0
    text = capsys.readouterr().out
    text.encode("utf-8", "strict")  # no lone surrogate reached the output
    doc: dict[str, Any] = json.loads(text)
    (assert_valid_cyclonedx if fmt == "cyclonedx-json" else assert_valid_spdx)(text)
    return doc


def _by_ref(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["bom-ref"]: c for c in doc.get("components", [])}


def _props(component: dict[str, Any]) -> dict[str, str]:
    return {p["name"].removeprefix("bundlelint:"): p["value"]
            for p in component.get("properties", [])}


def _depends(doc: dict[str, Any], ref: str) -> set[str]:
    return {r for d in doc["dependencies"] if d["ref"] == ref for r in d.get("dependsOn", [])}


def _inspect(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, Any]:
    assert main(["inspect", "--format", "json", str(path)]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


# --- the demo bundle --------------------------------------------------------------------------


def test_demo_cyclonedx(capsys: pytest.CaptureFixture[str]) -> None:
    doc = sbom(capsys, DEMO)
    assert doc["specVersion"] == "1.6" and doc["bomFormat"] == "CycloneDX"
    app = doc["metadata"]["component"]
    assert (app["type"], app["name"], app["version"]) == ("application", "Demo", "1.0.0")
    assert _props(app)["bundle:identifier"] == "com.example.bundlelint-demo"
    components = _by_ref(doc)
    exe = components["file:Contents/MacOS/demo"]
    props = _props(exe)
    assert props["path"] == "Demo.app/Contents/MacOS/demo"
    assert props["macho:architectures"] == "arm64 x86_64"
    assert props["macho:arm64:signature"] == "linker-signed"
    assert props["macho:x86_64:signature"] == "unsigned"
    # cdhash as inspect (and codesign -dvvv) shows it
    [inspected] = _inspect(capsys, DEMO)["files"]
    arm64 = inspected["slices"][0]
    assert props["macho:arm64:cdhash:sha256"] == arm64["code_directories"][0]["cdhash"]
    import hashlib

    assert exe["hashes"] == [{"alg": "SHA-256", "content": hashlib.sha256(
        (DEMO / "Contents/MacOS/demo").read_bytes()).hexdigest()}]
    # the app contains its executable, which links its Go main module
    assert _depends(doc, app["bom-ref"]) == {"file:Contents/MacOS/demo"}
    [gomain] = [c for c in doc["components"] if c["bom-ref"].startswith("go:")]
    assert gomain["name"] == "example.com/bundlelint-demo"
    assert gomain["purl"] == "pkg:golang/example.com/bundlelint-demo"  # (devel): no version
    assert _depends(doc, "file:Contents/MacOS/demo") == {gomain["bom-ref"]}


def test_demo_spdx_agrees_with_cyclonedx(capsys: pytest.CaptureFixture[str]) -> None:
    cdx = sbom(capsys, DEMO)
    spdx = sbom(capsys, DEMO, "spdx-json")
    assert spdx["spdxVersion"] == "SPDX-2.3" and spdx["dataLicense"] == "CC0-1.0"
    [describes] = [r for r in spdx["relationships"] if r["relationshipType"] == "DESCRIBES"]
    root = next(p for p in spdx["packages"] if p["SPDXID"] == describes["relatedSpdxElement"])
    assert (root["name"], root["versionInfo"]) == ("Demo", "1.0.0")
    assert root["primaryPackagePurpose"] == "APPLICATION"
    # the same components, names and versions in both documents
    assert sorted((p["name"], p.get("versionInfo")) for p in spdx["packages"]) == sorted(
        [(c["name"], c.get("version")) for c in cdx["components"]]
        + [(cdx["metadata"]["component"]["name"], "1.0.0")])
    kinds = {r["relationshipType"] for r in spdx["relationships"]}
    assert kinds == {"DESCRIBES", "CONTAINS", "STATIC_LINK"}
    exe = next(p for p in spdx["packages"] if p["name"] == "demo")
    assert "bundlelint:macho:architectures=arm64 x86_64" in exe["comment"].splitlines()


# --- frameworks, dylibs, nested bundles ---------------------------------------------------


def _app_with_framework_and_dylib(root: Path) -> Path:
    kit = build_macho(MachOSpec(filetype=MH_DYLIB,
                                id_dylib="@rpath/Kit.framework/Versions/A/Kit",
                                id_dylib_versions=((3, 2, 1), (3, 0, 0))))
    libzip = build_macho(MachOSpec(filetype=MH_DYLIB, id_dylib="@rpath/libzip.5.dylib",
                                   id_dylib_versions=((5, 1, 0), (5, 0, 0))))
    fw = "Contents/Frameworks/Kit.framework/"
    app = make_app(root, files={
        f"{fw}Versions/A/Kit": kit,
        f"{fw}Versions/A/Resources/Info.plist": plistlib.dumps({
            "CFBundleName": "Kit", "CFBundleExecutable": "Kit",
            "CFBundleIdentifier": "com.example.kit", "CFBundleShortVersionString": "3.2",
            "CFBundleVersion": "321", "CFBundlePackageType": "FMWK"}),
        "Contents/Frameworks/libzip.5.dylib": libzip,
    })
    (app / fw / "Versions/Current").symlink_to("A")
    (app / fw / "Kit").symlink_to("Versions/Current/Kit")
    return app


def test_frameworks_and_dylibs_with_install_names_and_versions(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = _app_with_framework_and_dylib(tmp_path)
    doc = sbom(capsys, app)
    components = _by_ref(doc)
    framework = components["bundle:Contents/Frameworks/Kit.framework"]
    assert (framework["type"], framework["name"], framework["version"]) == (
        "framework", "Kit", "3.2")
    assert _props(framework)["bundle:identifier"] == "com.example.kit"
    assert _props(framework)["bundle:kind"] == "framework"
    kit = components["file:Contents/Frameworks/Kit.framework/Versions/A/Kit"]
    assert kit["type"] == "library" and kit["version"] == "3.2"  # the framework's version
    props = _props(kit)
    assert props["macho:install_name"] == "@rpath/Kit.framework/Versions/A/Kit"
    assert (props["macho:current_version"], props["macho:compatibility_version"]) == (
        "3.2.1", "3.0.0")
    lib = components["file:Contents/Frameworks/libzip.5.dylib"]
    assert lib["version"] == "5.1.0"  # no bundle: LC_ID_DYLIB's current version
    assert _props(lib)["macho:install_name"] == "@rpath/libzip.5.dylib"
    # containment: app -> framework -> its binary; app -> loose dylib and main executable
    app_ref = doc["metadata"]["component"]["bom-ref"]
    assert _depends(doc, app_ref) == {"bundle:Contents/Frameworks/Kit.framework",
                                      "file:Contents/Frameworks/libzip.5.dylib",
                                      "file:Contents/MacOS/app"}
    assert _depends(doc, "bundle:Contents/Frameworks/Kit.framework") == {
        "file:Contents/Frameworks/Kit.framework/Versions/A/Kit"}
    sbom(capsys, app, "spdx-json")


def test_single_macho_is_the_subject(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                     ) -> None:
    exe = tmp_path / "tool"
    exe.write_bytes(developer_id_like())
    doc = sbom(capsys, exe)
    subject = doc["metadata"]["component"]
    assert subject["name"] == "tool" and _props(subject)["macho:architectures"] == "arm64"
    assert doc.get("components", []) == []  # cyclonedx leaves an empty list out
    sbom(capsys, exe, "spdx-json")


# --- signer and Team ID of a real notarized app ---------------------------------------------


def test_real_notarized_app(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from test_real_apps import JUHFLOW_DMG, JUHFLOW_TEAM, _unpack_app

    app = _unpack_app(JUHFLOW_DMG, tmp_path, "JuhFlow.app")
    doc = sbom(capsys, app)
    exe = _by_ref(doc)["file:Contents/MacOS/JuhFlowGUI"]
    props = _props(exe)
    assert props["macho:arm64:team_id"] == JUHFLOW_TEAM
    assert props["macho:arm64:certificate_team_id"] == JUHFLOW_TEAM
    assert props["macho:arm64:signer"] == (
        "Developer ID Application: Julian Hermstad Langbach (T457T7F9C5)")
    assert props["macho:arm64:certificate_kind"] == "Developer ID Application"
    assert props["macho:arm64:hardened_runtime"] == "true"
    inspected = next(f for f in _inspect(capsys, app)["files"]
                     if f["path"].endswith("MacOS/JuhFlowGUI"))
    assert props["macho:arm64:cdhash:sha256"] == (
        inspected["slices"][0]["code_directories"][0]["cdhash"])
    info = plistlib.loads((app / "Contents" / "Info.plist").read_bytes())
    subject = doc["metadata"]["component"]
    assert subject["name"] == info.get("CFBundleName", "JuhFlow")
    assert subject["version"] == info["CFBundleShortVersionString"]
    assert _props(subject)["bundle:identifier"] == info["CFBundleIdentifier"]
    sbom(capsys, app, "spdx-json")


# --- Go modules -----------------------------------------------------------------------------


def _go_json(path: Path) -> dict[str, Any]:
    import toolchain

    done = subprocess.run([toolchain.go_executable(), "version", "-m", "-json", str(path)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _expected_go_modules(info: dict[str, Any]) -> set[tuple[str, str]]:
    """(path, version) of the modules compiled in, from go's own JSON: a module-path
    replacement stands for the module it replaces; a directory replacement has no purl."""
    out = set()
    for dep in info.get("Deps", []):
        built = dep.get("Replace", dep)
        if built["Path"].startswith((".", "/")):
            continue
        out.add((built["Path"], built["Version"]))
    return out


def _decoded(purls: set[str]) -> set[tuple[str, str]]:
    """(module path, version) of each ``pkg:golang`` purl, percent-decoding by packageurl."""
    from packageurl import PackageURL

    out = set()
    for text in purls:
        purl = PackageURL.from_string(text)
        assert purl.type == "golang" and purl.version
        out.add((f"{purl.namespace}/{purl.name}" if purl.namespace else purl.name,
                 purl.version))
    return out


@pytest.mark.toolchain
def test_go_modules_with_purls_sums_and_replacements(go_modapp_amd64: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    doc = sbom(capsys, go_modapp_amd64)
    info = _go_json(go_modapp_amd64)
    mods = [c for c in doc["components"] if c["bom-ref"].startswith("go:")]
    purls = {c["purl"] for c in mods if "purl" in c and _props(c)["go:module_role"] != "main"}
    assert purls == {"pkg:golang/example.org/gizmo@v1.2.3",
                     "pkg:golang/example.org/widget-fork@v0.4.1"}
    assert _decoded(purls) == _expected_go_modules(info)
    gizmo = next(c for c in mods if c["name"] == "example.org/gizmo")
    [dep] = [d for d in info["Deps"] if d["Path"] == "example.org/gizmo"]
    assert _props(gizmo)["go:sum"] == dep["Sum"]
    assert gizmo["hashes"] == [{"alg": "SHA-256",
                                "content": base64.b64decode(dep["Sum"][3:]).hex()}]
    fork = next(c for c in mods if c["name"] == "example.org/widget-fork")
    assert _props(fork)["go:replaces"] == "example.org/widget v0.4.0"
    local = next(c for c in mods if c["name"] == "example.org/local")
    assert "purl" not in local and _props(local)["go:replacement"] == "./local (devel)"
    main_mod = next(c for c in mods if _props(c)["go:module_role"] == "main")
    assert main_mod["version"] == info["Main"]["Version"]
    assert main_mod["purl"] == f"pkg:golang/example.com/modapp@{info['Main']['Version']}"
    # the binary (the subject, a bare Mach-O) statically links every module
    assert _depends(doc, doc["metadata"]["component"]["bom-ref"]) == {c["bom-ref"]
                                                                      for c in mods}
    spdx = sbom(capsys, go_modapp_amd64, "spdx-json")
    locators = {ref["referenceLocator"] for p in spdx["packages"]
                for ref in p.get("externalRefs", [])}
    assert purls <= locators


@pytest.mark.realbin
@pytest.mark.toolchain
def test_real_go_binary_modules_match_go_version_m(capsys: pytest.CaptureFixture[str]) -> None:
    from realbins import fetch

    path = fetch("app-builder-darwin-arm64")
    doc = sbom(capsys, path)
    info = _go_json(path)
    deps = {c["purl"] for c in doc["components"] if c["bom-ref"].startswith("go:")
            and _props(c)["go:module_role"] == "dependency"}
    assert _decoded(deps) == _expected_go_modules(info) and len(deps) == 33
    assert "pkg:golang/github.com/aws/aws-sdk-go@v1.45.7" in deps
    # purl-spec: a version's "+" is percent-encoded
    assert "pkg:golang/github.com/alecthomas/kingpin@v2.2.6%2Bincompatible" in deps


# --- reproducibility, output file, hostile input ------------------------------------------


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "spdx-json"])
def test_source_date_epoch_makes_the_output_reproducible(
        fmt: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    runs = []
    for _ in range(2):
        assert main(["sbom", "--format", fmt, str(DEMO)]) == 0
        runs.append(capsys.readouterr().out)
    assert runs[0] == runs[1]
    assert "2023-11-14T22:13:20" in runs[0]
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    for _ in range(2):
        assert main(["sbom", "--format", fmt, str(DEMO)]) == 0
        runs.append(capsys.readouterr().out)
    key = "serialNumber" if fmt == "cyclonedx-json" else "documentNamespace"
    serials = [json.loads(r)[key] for r in runs]
    assert serials[0] == serials[1] and len(set(serials[1:])) == 3


def test_bad_source_date_epoch_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    assert main(["sbom", str(DEMO)]) == 2
    assert "SOURCE_DATE_EPOCH" in capsys.readouterr().err


def test_output_file_and_never_into_the_input(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo.cdx.json"
    assert main(["sbom", "--output", str(out), str(DEMO)]) == 0
    assert capsys.readouterr().out == ""
    assert_valid_cyclonedx(out.read_text(encoding="utf-8"))
    app = make_app(tmp_path / "in")
    inside = app / "Contents" / "sbom.json"
    assert main(["sbom", "--output", str(inside), str(app)]) == 2
    assert "inside the input" in capsys.readouterr().err and not inside.exists()


def test_hostile_names_stay_valid_and_escaped(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Control characters, a bidi override and a byte that is not UTF-8 in file names and
    Info.plist values: both documents stay strict UTF-8 JSON and valid against their schema,
    the names keep their characters (JSON escapes them), the raw byte shows as \\xff."""
    hostile = "\x1b]0;pwn\x07\u202e::error::"
    info = {**DEFAULT_INFO, "CFBundleName": hostile, "CFBundleShortVersionString": "1.0\n2"}
    app = make_app(tmp_path, info=plistlib.dumps(info, fmt=plistlib.FMT_BINARY))
    lib = build_macho(MachOSpec(filetype=MH_DYLIB, id_dylib=f"@rpath/{hostile}.dylib"))
    frameworks = app / "Contents" / "Frameworks"
    frameworks.mkdir()
    (frameworks / f"{hostile}.dylib").write_bytes(lib)
    with open(bytes(frameworks) + b"/lib\xff.dylib", "wb") as fh:
        fh.write(lib)
    doc = sbom(capsys, app)
    assert doc["metadata"]["component"]["name"] == hostile
    names = {c["name"] for c in doc["components"]}
    assert f"{hostile}.dylib" in names and "lib\\xff.dylib" in names
    install = {_props(c).get("macho:install_name") for c in doc["components"]}
    assert f"@rpath/{hostile}.dylib" in install
    spdx = sbom(capsys, app, "spdx-json")
    assert any(p["name"] == hostile for p in spdx["packages"])


def test_unreadable_macho_and_plist_are_still_listed(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A truncated Mach-O ships all the same: it is a component with the parse error and its
    offset; a malformed Info.plist leaves the app unnamed by it, never a traceback."""
    app = make_app(tmp_path, executable=developer_id_like()[:100], info=b"garbage<plist")
    doc = sbom(capsys, app)
    exe = _by_ref(doc)["file:Contents/MacOS/app"]
    props = _props(exe)
    assert exe["type"] == "file" and props["macho:error"] and "macho:error_offset" in props
    assert doc["metadata"]["component"]["name"] == "Sample"
    assert _depends(doc, doc["metadata"]["component"]["bom-ref"]) == {exe["bom-ref"]}


ITUNES_DMG_SHA256 = "c45438abdc9cd59ca5301a48c345d8e72d190b54fafd36e071fae724b45a0c04"


def test_real_app_with_a_framework(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """iTunes Volume Control (HFS+ disk image sample, 2013): Sparkle.framework's version from
    its Info.plist and its dylib's LC_ID_DYLIB read by lief, the independent oracle; the
    app's self-signed signer; both documents valid."""
    import hashlib
    import shutil

    import lief
    from test_real_apps import SAMPLES

    dmg = SAMPLES / "03-itunes-volume-control-2013-hfs.dmg"
    sevenzip = shutil.which("7zz")
    if not dmg.is_file() or sevenzip is None:
        pytest.skip(f"needs {dmg} (set BUNDLELINT_SAMPLES) and 7zz (Debian package 7zip)")
    assert hashlib.sha256(dmg.read_bytes()).hexdigest() == ITUNES_DMG_SHA256
    subprocess.run([sevenzip, "x", "-y", "-sns-", f"-o{tmp_path}", str(dmg)], check=True,
                   capture_output=True)
    [app] = tmp_path.rglob("iTunes Volume Control.app")
    doc = sbom(capsys, app)
    fw_dir = app / "Contents/Frameworks/Sparkle.framework"
    info = plistlib.loads((fw_dir / "Versions/A/Resources/Info.plist").read_bytes())
    components = _by_ref(doc)
    framework = components["bundle:Contents/Frameworks/Sparkle.framework"]
    assert (framework["type"], framework["version"]) == (
        "framework", info["CFBundleShortVersionString"])
    binary = components["file:Contents/Frameworks/Sparkle.framework/Versions/A/Sparkle"]
    props = _props(binary)
    fat = lief.MachO.parse(str(fw_dir / "Versions/A/Sparkle"))
    assert fat is not None
    ids = {(c.name, ".".join(map(str, c.current_version)),
            ".".join(map(str, c.compatibility_version)))
           for b in fat for c in b.commands if c.command == lief.MachO.LoadCommand.TYPE.ID_DYLIB}
    assert ids == {(props["macho:install_name"], props["macho:current_version"],
                    props["macho:compatibility_version"])}
    assert len(props["macho:architectures"].split()) == fat.size
    exe = components["file:Contents/MacOS/iTunes Volume Control"]
    signers = {v for k, v in _props(exe).items() if k.endswith(":signer")}
    assert signers == {"Andrea Alberti"}  # self-signed (SOURCES.md of the samples)
    app_info = plistlib.loads((app / "Contents/Info.plist").read_bytes())
    assert doc["metadata"]["component"]["version"] == app_info["CFBundleShortVersionString"]
    assert _depends(doc, "bundle:") >= {"bundle:Contents/Frameworks/Sparkle.framework",
                                        "file:Contents/MacOS/iTunes Volume Control"}
    sbom(capsys, app, "spdx-json")


def test_docs_list_every_property(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/sbom.md names each property the documents carry (architectures and hash types as
    ARCH and HASH)."""
    docs = (REPO / "docs" / "sbom.md").read_text(encoding="utf-8")
    app = _app_with_framework_and_dylib(tmp_path / "fw")
    (app / "Contents" / "MacOS" / "broken").write_bytes(developer_id_like()[:100])
    signed = tmp_path / "signed"
    signed.mkdir()
    from fixtures.sealer import seal_bundle

    sealed = make_app(signed)
    seal_bundle(sealed)
    names: set[str] = set()
    for path in (DEMO, app, sealed):
        doc = sbom(capsys, path)
        for comp in [doc["metadata"]["component"], *doc.get("components", [])]:
            names |= {p["name"] for p in comp.get("properties", [])}
    # per-slice names have a second colon after "macho:" (bundlelint:macho:arm64:minos)
    normalised = {re.sub(r"^bundlelint:macho:[^:]+:", "bundlelint:macho:ARCH:", n)
                  for n in names}
    normalised = {re.sub(r":cdhash:[a-z0-9]+$", ":cdhash:HASH", n) for n in normalised}
    assert "bundlelint:macho:ARCH:signer" in normalised  # the sealed app is CMS-signed
    missing = sorted(n for n in normalised if f"`{n}`" not in docs)
    assert not missing, missing


def test_a_file_that_is_not_code_is_the_subject_with_its_hash(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib

    blob = tmp_path / "notes.bin"
    blob.write_bytes(b"not Mach-O " * 100)
    doc = sbom(capsys, blob)
    subject = doc["metadata"]["component"]
    assert (subject["type"], subject["name"]) == ("file", "notes.bin")
    assert subject["hashes"] == [{"alg": "SHA-256",
                                  "content": hashlib.sha256(blob.read_bytes()).hexdigest()}]


def test_disk_image_is_the_subject_and_contains_the_app(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    """The notarized JuhFlow disk image itself (read by bundlelint's own UDIF/APFS readers):
    the image is the subject with its SHA-256, it contains the app, the app its executable."""
    from test_real_apps import JUHFLOW_DMG, JUHFLOW_SHA256, JUHFLOW_TEAM

    if not JUHFLOW_DMG.is_file():
        pytest.skip(f"{JUHFLOW_DMG} is absent (set BUNDLELINT_SAMPLES)")
    doc = sbom(capsys, JUHFLOW_DMG)
    subject = doc["metadata"]["component"]
    assert subject["name"] == JUHFLOW_DMG.name
    assert subject["hashes"] == [{"alg": "SHA-256", "content": JUHFLOW_SHA256}]
    assert _depends(doc, subject["bom-ref"]) == {"bundle:JuhFlow.app"}
    assert _depends(doc, "bundle:JuhFlow.app") == {"file:JuhFlow.app/Contents/MacOS/JuhFlowGUI"}
    exe = _by_ref(doc)["file:JuhFlow.app/Contents/MacOS/JuhFlowGUI"]
    assert _props(exe)["macho:arm64:team_id"] == JUHFLOW_TEAM
    sbom(capsys, JUHFLOW_DMG, "spdx-json")


def _sample_containers() -> list[str]:
    from test_real_apps import SAMPLES

    if not SAMPLES.is_dir():
        return ["(samples absent)"]
    return sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".dmg", ".pkg"))


@pytest.mark.parametrize("name", _sample_containers())
def test_every_sample_container_gives_valid_documents(name: str,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    """Each real disk image and package of the samples: both documents valid, the container
    the subject with its own SHA-256, every Mach-O inside a component."""
    import hashlib

    from test_real_apps import SAMPLES

    from bundlelint.bundle import open_input

    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"{SAMPLES} is absent (set BUNDLELINT_SAMPLES)")
    doc = sbom(capsys, path)
    subject = doc["metadata"]["component"]
    assert subject["hashes"][0]["content"] == hashlib.sha256(path.read_bytes()).hexdigest()
    machos = {f"file:{entry.relpath}" for entry, _ in open_input(path).macho_results()}
    assert machos <= set(_by_ref(doc))
    sbom(capsys, path, "spdx-json")
