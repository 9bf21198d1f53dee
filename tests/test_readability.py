"""Issue 14, "Readability": at 80 columns the prose of ``rules``, ``explain``, findings and the
notary-log comparison wraps to the terminal while fix commands stay whole on one line; the
rule slugs printed on every finding are accepted wherever a rule ID is; ``--select ''`` is a
usage error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from appbuilder import make_app
from test_notary_log import INVALID_ISSUES, log_doc, problem_app, write

from bundlelint.cli import main
from bundlelint.rules import load_registry
from fixtures.macho_builder import MachOSpec, build_macho

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo" / "Demo.app"
REGISTRY = load_registry(plugins=False)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def too_wide(text: str, *, exempt: tuple[str, ...] = ()) -> list[str]:
    """Lines wider than 80 columns, except those that start with one of ``exempt`` (after
    their indentation) and those that are a single unbreakable word (a URL)."""
    return [line for line in text.splitlines()
            if len(line) > 80 and not line.lstrip().startswith(exempt)
            and " " in line.strip().removeprefix("- ")]


@pytest.fixture
def columns_80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


def test_rules_listing_fits_80_columns(columns_80: None,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules")
    assert code == 0
    assert too_wide(out) == []
    for r in REGISTRY:  # every rule still listed, its summary complete
        assert r.meta.id in out
        assert " ".join(r.meta.summary.split()) in " ".join(out.split())


def test_explain_fits_80_columns_for_every_rule(columns_80: None,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    for r in REGISTRY:
        code, out, _ = run(capsys, "explain", r.meta.id)
        assert code == 0
        assert too_wide(out, exempt=("$ ",)) == [], r.meta.id
        assert " ".join(r.meta.why.split()) in " ".join(out.split())
        if r.meta.fix_command:  # whole, on one line
            assert f"  $ {r.meta.fix_command}" in out.splitlines()


def test_findings_wrap_at_80_columns_and_fix_commands_stay_whole(
        columns_80: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--no-color", str(DEMO))
    assert code == 1
    assert too_wide(out, exempt=("fix: ",)) == []
    code, doc, _ = run(capsys, "--format", "json", str(DEMO))
    commands = {f["fix"]["command"] for f in json.loads(doc)["findings"] if f["fix"]}
    fix_lines = {line.strip().removeprefix("fix: ") for line in out.splitlines()
                 if line.strip().startswith("fix: ")}
    assert commands and fix_lines == commands
    assert max(len(line) for line in out.splitlines()) > 80  # a command went past, unbroken


def test_notary_comparison_table_fits_80_columns(
        tmp_path: Path, columns_80: None, capsys: pytest.CaptureFixture[str]) -> None:
    app = problem_app(tmp_path)
    path = write(tmp_path, log_doc(INVALID_ISSUES))
    code, out, _ = run(capsys, "notary-log", "--no-color", str(path), "--bundle", str(app))
    assert code == 1
    table = [line for line in out.splitlines() if "│" in line or "─" in line]
    assert table, out
    assert too_wide(out, exempt=("fix: ", "doc: ", "apple path: ")) == []
    assert "7 predicted, 0 missed," in " ".join(out.split())


def test_without_a_known_width_a_finding_stays_on_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Piped with no COLUMNS (grep, CI logs), nothing is wrapped."""
    monkeypatch.delenv("COLUMNS", raising=False)
    code, out, _ = run(capsys, "--no-color", str(DEMO))
    assert code == 1
    assert any(len(line) > 80 and "BL202 adhoc-signature [arm64]" in line
               for line in out.splitlines())


# --- rule slugs wherever a rule ID goes ----------------------------------------------------


def test_a_slug_names_one_rule() -> None:
    from dataclasses import replace

    from bundlelint.errors import RegistryError
    from bundlelint.rules import Registry
    from bundlelint.rules.base import Rule, RuleMeta

    def meta(rule_id: str) -> RuleMeta:
        return replace(REGISTRY.meta("BL201"), id=rule_id, slug="same-name", aliases=())

    registry = Registry()
    registry.register(Rule(meta=meta("XY100"), check=lambda ctx: ()))
    with pytest.raises(RegistryError, match="same-name"):
        registry.register(Rule(meta=meta("XY101"), check=lambda ctx: ()))
    assert registry.resolve("Same-Name") == "XY100" and registry.code("same-name") == "XY100"


def test_explain_accepts_the_slug(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "adhoc-signature")
    assert code == 0 and out.startswith("BL202 (adhoc-signature)")
    assert run(capsys, "explain", "ADHOC-Signature")[0] == 0


def test_select_and_ignore_accept_slugs(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    tool = tmp_path / "tool"
    tool.write_bytes(build_macho(MachOSpec(arch="x86_64")))  # BL201 unsigned-code
    code, out, _ = run(capsys, "--no-color", "--select", "unsigned-code", str(tool))
    assert code == 1 and "BL201 unsigned-code" in out
    assert {line.split()[1] for line in out.splitlines() if line.startswith("  error")} == {
        "BL201"}
    code, out, _ = run(capsys, "--no-color", "--select", "BL2", "--ignore", "unsigned-code",
                       str(tool))
    assert "BL201" not in out
    # a slug matches whole, never as a prefix
    code, _, err = run(capsys, "--select", "unsigned", str(tool))
    assert code == 2 and "unknown rule code" in err


def test_config_accepts_slugs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(tmp_path, info_overrides={"CFBundlePackageType": "BNDL"})  # BL406 warning
    slug = REGISTRY.meta("BL406").slug
    config = tmp_path / "bundlelint.toml"
    config.write_text(f'select = ["{slug}"]\nseverity = {{ {slug} = "error" }}\n')
    code, out, err = run(capsys, "--no-color", "--config", str(config), str(app))
    assert code == 1, err
    assert f"error   BL406 {slug}" in out
    config.write_text(f'select = ["BL4"]\nignore = ["{slug}"]\nfail-on = "warning"\n')
    code, out, err = run(capsys, "--no-color", "--config", str(config), str(app))
    assert (code, "BL406" in out) == (0, False), err
    config.write_text(f'select = ["BL4"]\nfail-on = "warning"\n[per-path-ignores]\n'
                      f'"Contents/Info.plist" = ["{slug}"]\n')
    assert run(capsys, "--config", str(config), str(app))[0] == 0
    config.write_text('select = ["BL4"]\nfail-on = "warning"\n')  # without: the warning fails
    assert run(capsys, "--config", str(config), str(app))[0] == 1


@pytest.mark.parametrize("value", ["", ",", " "])
def test_empty_select_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       value: str) -> None:
    app = make_app(tmp_path)
    code, out, err = run(capsys, "--select", value, str(app))
    assert code == 2 and out == ""
    assert "--select" in err


def test_empty_select_in_the_config_is_a_usage_error(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(tmp_path)
    config = tmp_path / "bundlelint.toml"
    config.write_text("select = []\n")
    code, _, err = run(capsys, "--config", str(config), str(app))
    assert code == 2 and "select" in err
