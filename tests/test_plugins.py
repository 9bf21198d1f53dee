"""Third-party rule packs through the ``bundlelint.rules`` entry-point group, end to end: a
distribution on sys.path declares the group, its rules run, and a duplicate ID is an error."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bundlelint.errors import RegistryError
from bundlelint.rules import _may_have_plugins, load_registry

PLUGIN = '''
from bundlelint.rules.base import Consequence, RuleMeta, doc, rule


@rule(RuleMeta(id="{rid}", slug="sample-plugin-rule", consequence=Consequence.MAY_FAIL,
               evidence=(doc("https://example.invalid/doc", "a page"),),
               summary="A rule from a plugin", what="w", why="y", how_to_fix="h"))
def check(ctx):
    yield ctx.finding(path=ctx.bundle.name, message="plugin was here")
'''


def _install(site: Path, module: str, rid: str) -> None:
    (site / f"{module}.py").write_text(PLUGIN.format(rid=rid))
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[bundlelint.rules]\nsample = {module}\n")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("bl_plugin_")]:
        del sys.modules[name]


def test_plugin_rules_are_registered_and_run(site: Path, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    from bundlelint.cli import main

    _install(site, "bl_plugin_ok", "XP001")
    assert _may_have_plugins([str(site)])
    registry = load_registry()
    rule = registry.get("XP001")
    assert rule is not None and rule.meta.family == "plugin"
    target = site / "tool"
    target.write_bytes(b"")
    main(["--format", "json", "--select", "XP001", str(target)])
    assert '"message": "plugin was here"' in capsys.readouterr().out


def test_plugin_with_a_builtin_id_is_an_error(site: Path) -> None:
    _install(site, "bl_plugin_dup", "BL201")
    with pytest.raises(RegistryError, match="BL201 is already registered"):
        load_registry()


def test_no_declaring_distribution_means_no_metadata_scan(tmp_path: Path) -> None:
    (tmp_path / "other-1.0.dist-info").mkdir()
    (tmp_path / "other-1.0.dist-info" / "entry_points.txt").write_text(
        "[console_scripts]\nother = other:main\n")
    assert not _may_have_plugins([str(tmp_path), str(tmp_path / "missing")])
