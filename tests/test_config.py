"""Configuration: discovery, precedence, validation (exit 2 naming the key), and its effect on
output and exit status."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest
from appbuilder import developer_id_like, make_app, sealed_app
from lintutil import REGISTRY

from bundlelint.cli import main
from bundlelint.config import discover, find_config
from bundlelint.paths import input_relative, path_matches


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory that is also the current directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def bndl_app(root: Path) -> Path:
    """One warning (BL406) and one error (BL404)."""
    return sealed_app(root, exe_mode=0o644, info_overrides={"CFBundlePackageType": "BNDL"})


def test_ignore_and_severity_override_change_output_and_exit(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = bndl_app(project)
    code, out, _ = run(capsys, "--no-color", "Sample.app")
    assert code == 1  # BL404 is an error
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n[tool.bundlelint]\nignore = [\"BL404\"]\n"
        "severity = { BL406 = \"error\" }\n"
    )
    code, out, err = run(capsys, "--no-color", "Sample.app")
    assert (code, err) == (1, "")
    assert out == (
        "Sample.app/Contents/Info.plist\n"
        "  error   BL406 package-type-not-appl CFBundlePackageType is 'BNDL', expected 'APPL'\n"
        "    fix: plutil -replace CFBundlePackageType -string APPL "
        "Sample.app/Contents/Info.plist\n"
        "\n"
        "1 error, 0 warnings, 0 info in 1 file (Sample.app). Run `bundlelint explain RULE` for "
        "details.\n"
    )
    (project / "pyproject.toml").write_text(
        "[tool.bundlelint]\nignore = [\"BL404\"]\nseverity = { BL406 = \"info\" }\n")
    code, out, _ = run(capsys, "--no-color", "Sample.app")
    assert code == 0
    assert "  info    BL406 package-type-not-appl" in out
    assert out.endswith("0 errors, 0 warnings, 1 info in 1 file (Sample.app). Run "
                        "`bundlelint explain RULE` for details.\n")
    assert app.is_dir()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("ignroe = [\"BL404\"]\n",
         "unknown key 'ignroe' in [tool.bundlelint] (did you mean 'ignore'?)"),
        ("ignore = [\"BL999\"]\n", "ignore: unknown rule code 'BL999'"),
        ("severity = { BL406 = \"fatal\" }\n",
         "severity.BL406: must be one of info, warning, error, not 'fatal'"),
        ("severity = { BL4 = \"error\" }\n", "severity.BL4: unknown rule ID"),
        ("per-path-ignores = { \"*.dylib\" = [\"BL20X\"] }\n",
         "per-path-ignores.'*.dylib': unknown rule code 'BL20X'"),
        ("fail-on = \"warn\"\n", "fail-on: must be one of info, warning, error, not 'warn'"),
        ("expected-team-id = \"abc\"\n",
         "expected-team-id: must be a 10-character Apple Team ID, not 'abc'"),
        ("expected-entitlements = { \"Contents/MacOS/app\" = \"nope.entitlements\" }\n",
         "expected-entitlements.'Contents/MacOS/app': cannot read"),
        ("select = [\n", "invalid TOML"),
        ("max-archive-members = -1\n", "max-archive-members: must be a positive integer"),
        ("max-archive-members = 2.5\n", "max-archive-members: must be a positive integer"),
        ("max-archive-size = true\n", "max-archive-size: must be a positive integer"),
        ("max-compression-ratio = \"high\"\n", "max-compression-ratio: must be a positive "
         "number"),
    ],
)
def test_bad_configuration_exits_2_naming_the_key(
        project: Path, capsys: pytest.CaptureFixture[str], toml: str, message: str) -> None:
    make_app(project)
    (project / "pyproject.toml").write_text("[tool.bundlelint]\n" + toml)
    code, out, err = run(capsys, "Sample.app")
    assert code == 2
    assert out == ""
    assert err.startswith(f"bundlelint: error: {project / 'pyproject.toml'}: ")
    assert message in err


def test_unknown_key_in_bundlelint_toml(project: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    make_app(project)
    (project / "bundlelint.toml").write_text("fail_on = \"warning\"\n")
    code, _, err = run(capsys, "Sample.app")
    assert code == 2
    assert err == (f"bundlelint: error: {project / 'bundlelint.toml'}: unknown key 'fail_on' in "
                   "configuration (did you mean 'fail-on'?)\n")


def test_discovery_walks_up_and_prefers_bundlelint_toml(tmp_path: Path) -> None:
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (tmp_path / "bundlelint.toml").write_text("ignore = [\"BL2\"]\n")
    (tmp_path / "a" / "pyproject.toml").write_text("[project]\nname = 'no bundlelint table'\n")
    found = find_config(sub)
    assert found is not None and found[0] == tmp_path / "bundlelint.toml"
    (tmp_path / "a" / "pyproject.toml").write_text("[tool.bundlelint]\nignore = [\"BL4\"]\n")
    assert discover(sub, REGISTRY).ignore == ("BL4",)  # nearer file wins, no merging
    (tmp_path / "a" / "bundlelint.toml").write_text("ignore = [\"BL1\"]\n")
    assert discover(sub, REGISTRY).ignore == ("BL1",)  # bundlelint.toml before pyproject.toml


def test_cli_flags_override_configuration(project: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    bndl_app(project)
    (project / "bundlelint.toml").write_text("select = [\"BL406\"]\nfail-on = \"warning\"\n")
    assert run(capsys, "Sample.app")[0] == 1  # BL406 warning fails with fail-on warning
    assert run(capsys, "--fail-on", "error", "Sample.app")[0] == 0
    assert run(capsys, "--select", "BL404", "Sample.app")[0] == 1
    assert run(capsys, "--ignore", "BL406", "Sample.app")[0] == 0
    assert run(capsys, "--isolated", "Sample.app")[0] == 1  # BL404 error, config unread


def test_per_path_ignores(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bndl_app(project)
    (project / "bundlelint.toml").write_text(
        "[per-path-ignores]\n\"Contents/MacOS/*\" = [\"BL404\"]\n")
    code, out, _ = run(capsys, "--no-color", "Sample.app")
    assert code == 0
    assert "BL404" not in out and "BL406" in out
    (project / "bundlelint.toml").write_text("[per-path-ignores]\n\"Contents/Frameworks/**\" = "
                                              "[\"BL404\"]\n")
    assert run(capsys, "Sample.app")[0] == 1


def test_path_globs() -> None:
    assert input_relative("Demo.app/Contents/MacOS/demo", "Demo.app") == "Contents/MacOS/demo"
    assert input_relative("Demo.app", "Demo.app") == "."
    assert path_matches("Contents/MacOS/*", "Demo.app/Contents/MacOS/demo", "Demo.app")
    assert not path_matches("Contents/*", "Demo.app/Contents/MacOS/demo", "Demo.app")
    assert path_matches("Contents/**", "Demo.app/Contents/MacOS/demo", "Demo.app")
    assert path_matches("Contents/Frameworks/", "X.app/Contents/Frameworks/A.framework/A",
                        "X.app")
    assert path_matches("*.dylib", "X.app/Contents/Frameworks/libz.dylib", "X.app")
    assert path_matches("**/*.dylib", "X.app/libz.dylib", "X.app")
    assert not path_matches("*.dylib", "X.app/Contents/MacOS/x", "X.app")
    assert path_matches("Demo.app/Contents/MacOS/demo", "Demo.app/Contents/MacOS/demo",
                        "Demo.app")
    assert path_matches("tool", "tool", "tool")


def test_expectations_from_configuration(project: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    camera = "com.apple.security.device.camera"
    make_app(project, executable=developer_id_like(entitlements=None),
             info_overrides={"CFBundleIdentifier": "com.example.other"})
    (project / "app.entitlements").write_bytes(plistlib.dumps({camera: True}))
    (project / "bundlelint.toml").write_text(
        "select = [\"BL240\", \"BL310\", \"BL410\"]\n"
        "expected-team-id = \"ZZZZZ99999\"\n"
        "bundle-identifier = \"com.example.app\"\n"
        "[expected-entitlements]\n\"Contents/MacOS/app\" = \"app.entitlements\"\n"
    )
    code, out, _ = run(capsys, "--format", "json", "Sample.app")
    assert code == 1
    assert [line.split('"')[3] for line in out.splitlines() if '"rule_id"' in line] == [
        "BL410", "BL240", "BL310"]
    assert f"carries no entitlements: missing {camera}" in out
    code, out, _ = run(capsys, "--expected-team-id", "ABCDE12345", "--bundle-identifier",
                       "com.example.other", "--format", "json", "Sample.app")
    assert [line.split('"')[3] for line in out.splitlines() if '"rule_id"' in line] == ["BL310"]


def test_quiet_prints_only_the_summary(project: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    bndl_app(project)
    code, out, err = run(capsys, "--quiet", "Sample.app")
    assert (code, err) == (1, "")
    assert out == ("1 error, 1 warning, 0 info in 2 files (Sample.app). Run `bundlelint "
                   "explain RULE` for details.\n")
    clean = project / "clean"
    clean.mkdir()
    sealed_app(clean)
    assert run(capsys, "-q", str(clean / "Sample.app")) == (0, "", "")


def test_readme_configuration_example_is_valid(tmp_path: Path) -> None:
    """The [tool.bundlelint] example in README.md parses with every key it shows."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("### Configuration"):]
    example = section[section.index("```toml\n") + 8:section.index("\n```", section.index(
        "```toml"))]
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "MyApp.entitlements").write_bytes(
        plistlib.dumps({"com.apple.security.device.camera": True}))
    (tmp_path / "pyproject.toml").write_text(example + "\n")
    config = discover(tmp_path, REGISTRY)
    assert config.ignore == ("BL205",)
    assert config.expected_team_id == "ABCDE12345"
    assert config.archive_limits() == {"max_archive_size": 8 * 1024**3,
                                       "max_compression_ratio": 200.0,
                                       "max_archive_members": 250_000}
    assert config.per_path_ignores == (
        ("Contents/Frameworks/Sparkle.framework/**", ("BL2",)), ("*.node", ("BL101",)))
    assert dict(config.expected_entitlements) == {
        "Contents/MacOS/MyApp": {"com.apple.security.device.camera": True},
        "Contents/MacOS/helper": {"com.apple.security.cs.allow-jit": True},
    }


def test_archive_limits_from_configuration_reach_the_zip_reader(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import zipfile

    with zipfile.ZipFile(project / "Sample.zip", "w") as zf:
        for i in range(30):
            zf.writestr(f"Sample.app/Contents/Resources/f{i}", b"")
    (project / "bundlelint.toml").write_text("max-archive-members = 20\n")
    code, out, _ = run(capsys, "--no-color", "Sample.zip")
    assert code == 1 and "BL707" in out and "over the limit of 20 (max_archive_members)" in out
    (project / "bundlelint.toml").write_text("max-archive-members = 30\n")
    _, out, _ = run(capsys, "--no-color", "Sample.zip")
    assert "BL707" not in out
