"""The Python API: ``bundlelint.lint`` / ``lint_all`` run the command line's pipeline, take the
same settings with the same validation, and leave nothing running between calls."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from appbuilder import developer_id_like, make_app
from lintutil import REGISTRY, TEST_OPTIONS

import bundlelint
from bundlelint import progress
from bundlelint.analysis import hashing
from bundlelint.cli import main
from fixtures.sealer import seal_bundle

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo" / "Demo.app"


def _key(path: str, rule_id: str, arch: str | None, message: str) -> tuple[str, str, str, str]:
    return (rule_id, path, arch or "", message)


def test_lint_gives_the_findings_the_command_line_prints(
        capsys: pytest.CaptureFixture[str]) -> None:
    report = bundlelint.lint(DEMO)
    assert report.input_name == "Demo.app" and report.failed
    api = [_key(f.path, f.rule_id, f.arch, f.message) for f in report.findings]
    assert main(["--isolated", "--format", "json", str(DEMO)]) == 1
    doc = json.loads(capsys.readouterr().out)
    cli = [_key(f["path"], f["rule_id"], f["arch"], f["message"]) for f in doc["findings"]]
    assert api == cli
    assert len(api) == doc["summary"]["errors"] + doc["summary"]["warnings"]
    unsigned = next(f for f in report.findings if f.rule_id == "BL201")
    assert unsigned.severity is bundlelint.Severity.ERROR
    assert (unsigned.path, unsigned.arch) == ("Demo.app/Contents/MacOS/demo", "x86_64")
    assert unsigned.fix is not None and unsigned.fix.command is not None
    assert unsigned.fix.command.startswith("codesign ")


def test_select_ignore_and_fail_on(tmp_path: Path) -> None:
    only_bl4 = bundlelint.lint(DEMO, select=["BL4"])
    assert {f.rule_id for f in only_bl4.findings} == {"BL407"}
    none_left = bundlelint.lint(DEMO, select=["BL4"], ignore=["BL407"])
    assert none_left.findings == () and not none_left.failed
    config = tmp_path / "bundlelint.toml"
    config.write_text('ignore = ["BL2"]\n[severity]\nBL407 = "warning"\n')
    configured = bundlelint.lint(DEMO, config=config)
    assert {f.rule_id for f in configured.findings} == {"BL407"}
    assert {f.severity.value for f in configured.findings} == {"warning"}
    assert not configured.failed
    assert bundlelint.lint(DEMO, config=config, fail_on="warning").failed


@pytest.mark.parametrize("settings", [
    {"select": ["BL999"]},
    {"select": []},
    {"expected_team_id": "bad"},
    {"bundle_identifier": "has space"},
    {"fail_on": "fatal"},
])
def test_bad_settings_are_usage_errors(settings: dict[str, object]) -> None:
    with pytest.raises(bundlelint.UsageError):
        bundlelint.lint(DEMO, **settings)  # type: ignore[arg-type]


def test_unreadable_inputs(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        bundlelint.lint(tmp_path / "missing.app")
    result = bundlelint.lint_all([DEMO, tmp_path / "missing.app"])
    assert [r.input_name for r in result.reports] == ["Demo.app"]
    [problem] = result.problems
    assert problem.path == "missing.app" and "does not exist" in problem.reason
    assert result.exit_status == 2
    assert bundlelint.lint_all([DEMO]).exit_status == 1
    assert bundlelint.lint_all([DEMO], select=["BL6"]).exit_status == 0


def _big_sealed_app(root: Path) -> Path:
    """Over hashing.POOL_MIN_BYTES, so the pipeline hashes on worker processes (early hashing
    of the sealed files during the walk, prefetch of the rest)."""
    files = {f"Contents/Resources/part{i}.bin": bytes([i]) * (1 << 20) for i in range(40)}
    app = make_app(root, executable=developer_id_like(), files=files)
    seal_bundle(app)
    return app


def test_two_calls_leave_no_pool_or_thread_and_agree(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = _big_sealed_app(tmp_path)
    pools: list[object] = []
    real_pool = hashing.pool

    def counting_pool(jobs: int) -> object:
        executor = real_pool(jobs)
        if executor is not None:
            pools.append(executor)
        return executor

    monkeypatch.setattr(hashing, "pool", counting_pool)
    threads = set(threading.enumerate())
    bars = progress._enabled
    pooled = bundlelint.lint(app, jobs=2, options=TEST_OPTIONS, registry=REGISTRY)
    assert pools, "the first call should have hashed on worker processes"
    assert hashing._pools == {} and multiprocessing.active_children() == []
    assert set(threading.enumerate()) == threads
    assert progress._enabled is bars
    inline = bundlelint.lint(app, jobs=1, options=TEST_OPTIONS, registry=REGISTRY)
    assert hashing._pools == {} and set(threading.enumerate()) == threads
    assert pooled == inline
    assert pooled.findings == ()  # signature, pages and the 40 sealed files all verify
    assert "BL233" in pooled.rules_run  # the seal was checked


def test_readme_python_example_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Python API", 1)[1]
    [code] = re.findall(r"```python\n(.*?)```", section.split("\n## ", 1)[0], re.S)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "BL201 error Demo.app/Contents/MacOS/demo x86_64 x86_64 slice (EXECUTE) is not " \
           "signed" in lines
    assert lines[-1] == "4 findings, failed"
