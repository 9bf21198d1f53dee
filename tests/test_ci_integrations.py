"""The CI integrations run for real against the demo bundle: the composite GitHub Action's
``run:`` steps (extracted from ``action.yml`` and executed by bash as a runner would, with the
``GITHUB_*`` files in a temporary directory), the pre-commit hook's entry, and the README's
GitLab CI and shell snippets.

Offline, the Action's install step is replaced by the suite's own ``bundlelint`` (its output is
set to that command); ``test_action_install_step_installs_from_its_own_checkout`` runs the
install step itself (a fresh virtual environment, ``pip install "$GITHUB_ACTION_PATH"``) and is
marked ``network``. The snippets' ``pip install`` lines are the same install from a checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo" / "Demo.app"
README = (REPO / "README.md").read_text(encoding="utf-8")
SUITE_BUNDLELINT = Path(sys.executable).parent / "bundlelint"
DEMO_RULES = ("BL201", "BL202", "BL203", "BL204", "BL407")


def _action() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    return doc


# --- a small runner for the composite action ------------------------------------------------

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class ActionRun:
    """What running the action did: each step's result, and where it stopped."""

    inputs: dict[str, str]
    step_outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    stdout: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    uploads: list[dict[str, str]] = field(default_factory=list)
    failed_step: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.failed_step is None


def _value(expr: str, run: ActionRun) -> str:
    """The few expression forms action.yml uses; anything else fails the test loudly."""
    if m := re.fullmatch(r"inputs\.([\w-]+)", expr):
        return run.inputs[m.group(1)]
    if m := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr):
        return run.step_outputs.get(m.group(1), {}).get(m.group(2), "")
    if m := re.fullmatch(r"'([^']*)'", expr):
        return m.group(1)
    raise AssertionError(f"action.yml uses an expression this test cannot evaluate: {expr!r}")


def _render(text: str, run: ActionRun) -> str:
    return _EXPR.sub(lambda m: _value(m.group(1), run), text)


def _condition(cond: str, run: ActionRun) -> bool:
    cond = _EXPR.sub(lambda m: m.group(1), cond)
    results = []
    for term in cond.split("&&"):
        m = re.fullmatch(r"\s*(\S+)\s*==\s*(\S+)\s*", term)
        assert m, f"action.yml uses a condition this test cannot evaluate: {cond!r}"
        results.append(_value(m.group(1), run) == _value(m.group(2), run))
    return all(results)


def run_action(tmp_path: Path, inputs: dict[str, str], *, install: bool = False,
               action_path: Path = REPO, cwd: Path | None = None) -> ActionRun:
    """Run action.yml's steps in order as GitHub's runner does for a composite action: bash
    ``--noprofile --norc -eo pipefail`` per ``run:`` step, ``GITHUB_OUTPUT`` read back after
    each, the rest skipped after a failing step. ``uses:`` steps are recorded, not run."""
    action = _action()
    declared = action["inputs"]
    assert set(inputs) <= set(declared), f"unknown inputs {set(inputs) - set(declared)}"
    values = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    values.update(inputs)
    for name, spec in declared.items():
        if spec.get("required"):
            assert values[name], f"input {name} is required"
    run = ActionRun(values)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    for index, step in enumerate(action["runs"]["steps"]):
        step_id = step.get("id", f"step{index}")
        if run.failed_step is not None or ("if" in step and not _condition(step["if"], run)):
            run.skipped.append(step_id)
            continue
        if "uses" in step:
            run.uploads.append({"uses": step["uses"],
                                **{k: _render(str(v), run) for k, v in step["with"].items()}})
            continue
        if step_id == "install" and not install:
            run.step_outputs["install"] = {"bundlelint": str(SUITE_BUNDLELINT)}
            continue
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], "inputs reach the scripts as env, never pasted in"
        output_file = tmp_path / f"github-output-{index}"
        output_file.write_text("")
        script = tmp_path / f"step-{index}.sh"
        script.write_text(step["run"])
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
        env.update({k: _render(str(v), run) for k, v in step.get("env", {}).items()})
        env.update({"GITHUB_OUTPUT": str(output_file), "GITHUB_ACTION_PATH": str(action_path),
                    "RUNNER_TEMP": str(runner_temp), "GITHUB_ACTIONS": "true"})
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              env=env, cwd=cwd or tmp_path, capture_output=True, text=True,
                              timeout=600, check=False)
        run.stdout[step_id] = proc.stdout
        run.step_outputs[step_id] = dict(
            line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
        if proc.returncode != 0:
            run.failed_step = step_id
            run.stdout[step_id] += proc.stderr
    return run


def _annotations(text: str) -> list[tuple[str, str, str]]:
    """(level, file, rule) of every workflow command bundlelint printed."""
    return re.findall(r"^::(error|warning|notice) file=([^,]+),title=(BL\d+) ", text, re.M)


def _demo_as_warnings(directory: Path) -> None:
    """A bundlelint.toml that makes every finding of the demo a warning."""
    severity = "\n".join(f'{rule} = "warning"' for rule in DEMO_RULES)
    (directory / "bundlelint.toml").write_text(f"[severity]\n{severity}\n")


# --- the GitHub Action ----------------------------------------------------------------------


def test_action_annotates_and_fails_on_errors_by_default(tmp_path: Path) -> None:
    run = run_action(tmp_path, {"path": str(DEMO)})
    assert not run.succeeded and run.failed_step == "verdict"
    found = _annotations(run.stdout["lint"])
    assert len(found) == 5
    assert {rule for _, _, rule in found} == set(DEMO_RULES)
    assert {(level, file) for level, file, _ in found} == {
        ("error", "Demo.app/Contents/MacOS/demo"), ("warning", "Demo.app/Contents/Info.plist")}
    assert run.step_outputs["lint"]["exit-status"] == "1"
    assert run.uploads == [] and "sarif-written" not in run.step_outputs["lint"]
    assert not (tmp_path / "bundlelint.sarif").exists()


def test_action_writes_and_uploads_sarif_when_asked(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    run = run_action(tmp_path, {"path": str(DEMO), "upload-sarif": "true",
                                "sarif-file": "out/bl.sarif"})
    assert not run.succeeded  # the errors still fail the job, after the upload
    assert run.uploads == [{"uses": "github/codeql-action/upload-sarif@v3",
                            "sarif_file": "out/bl.sarif", "category": "bundlelint"}]


def test_action_sarif_upload_gets_the_report_it_wrote(tmp_path: Path) -> None:
    run = run_action(tmp_path, {"path": str(DEMO), "upload-sarif": "true"})
    (upload,) = run.uploads
    sarif = json.loads((tmp_path / upload["sarif_file"]).read_text())
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == sorted(
        ["BL201", "BL202", "BL203", "BL204", "BL407"])
    assert len(_annotations(run.stdout["lint"])) == 5  # annotations as well


@pytest.mark.parametrize(("fail_on", "succeeds"), [
    ("error", True), ("warning", False), ("info", False), ("none", True)])
def test_action_fail_on_decides_with_warnings_only(tmp_path: Path, fail_on: str,
                                                   succeeds: bool) -> None:
    _demo_as_warnings(tmp_path)
    run = run_action(tmp_path, {"path": str(DEMO), "fail-on": fail_on}, cwd=tmp_path)
    assert run.succeeded is succeeds
    found = _annotations(run.stdout["lint"])
    assert len(found) == 5 and {level for level, _, _ in found} == {"warning"}
    assert run.step_outputs["lint"]["exit-status"] == ("0" if succeeds else "1")


def test_action_fail_on_none_still_annotates_errors_and_passes(tmp_path: Path) -> None:
    run = run_action(tmp_path, {"path": str(DEMO), "fail-on": "none"})
    assert run.succeeded
    assert {level for level, _, _ in _annotations(run.stdout["lint"])} == {"error", "warning"}


def test_action_refuses_an_unknown_fail_on(tmp_path: Path) -> None:
    run = run_action(tmp_path, {"path": str(DEMO), "fail-on": "fatal"})
    assert run.failed_step == "lint"
    assert "::error title=bundlelint::fail-on must be" in run.stdout["lint"]


def test_action_path_input_stays_data(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    run = run_action(tmp_path, {"path": f"$(touch {marker}); `touch {marker}`"})
    assert not marker.exists()
    assert not run.succeeded and run.step_outputs["lint"]["exit-status"] == "2"


def test_readme_action_usage_passes_declared_inputs() -> None:
    (workflow,) = [yaml.safe_load(b) for b in _fenced("yaml") if "uses: ./tools/bundlelint" in b]
    (step,) = [s for s in workflow["jobs"]["lint-bundle"]["steps"]
               if s.get("uses") == "./tools/bundlelint"]
    declared = _action()["inputs"]
    assert set(step["with"]) <= set(declared)
    table = set(re.findall(r"^\| `([\w-]+)` \|", README, re.M))
    assert set(declared) <= table, "every input is documented in the README's table"
    assert workflow["permissions"]["security-events"] == "write"


@pytest.mark.network
def test_action_install_step_installs_from_its_own_checkout(tmp_path: Path) -> None:
    """The real install step: a venv and `pip install "$GITHUB_ACTION_PATH"` (a copy of this
    checkout, so the build writes nothing here), then the action runs that bundlelint."""
    checkout = tmp_path / "action"
    shutil.copytree(REPO, checkout, ignore=shutil.ignore_patterns(
        ".git", ".venv*", ".cache", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"))
    run = run_action(tmp_path, {"path": str(DEMO), "python": sys.executable}, install=True,
                     action_path=checkout)
    installed = Path(run.step_outputs["install"]["bundlelint"])
    assert installed.is_relative_to(tmp_path / "runner-temp") and installed.exists()
    assert run.failed_step == "verdict" and len(_annotations(run.stdout["lint"])) == 5


# --- pre-commit ------------------------------------------------------------------------------

_PRE_COMMIT_KEYS = {  # pre-commit's MANIFEST_HOOK_DICT: key -> type
    "id": str, "name": str, "entry": str, "language": str, "alias": str, "files": str,
    "exclude": str, "types": list, "types_or": list, "exclude_types": list,
    "additional_dependencies": list, "args": list, "always_run": bool, "fail_fast": bool,
    "pass_filenames": bool, "description": str, "language_version": str, "log_file": str,
    "minimum_pre_commit_version": str, "require_serial": bool, "stages": list, "verbose": bool,
}


def _hooks() -> list[dict[str, Any]]:
    hooks: list[dict[str, Any]] = yaml.safe_load(
        (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return hooks


def test_pre_commit_hook_manifest_is_valid() -> None:
    (hook,) = _hooks()
    assert {"id", "name", "entry", "language"} <= set(hook)
    for key, value in hook.items():
        assert key in _PRE_COMMIT_KEYS, f"unknown pre-commit key {key}"
        assert isinstance(value, _PRE_COMMIT_KEYS[key]), key
    assert hook["id"] == "bundlelint" and hook["language"] == "python"
    # language: python installs this repository, so the entry is our console script
    assert hook["entry"].split()[0] in _console_scripts()
    assert hook["pass_filenames"] is False  # a bundle is linted whole, not file by file
    files = re.compile(hook["files"])
    for path in ("build/MyApp.app/Contents/MacOS/MyApp", "dist/MyApp.zip", "lib/libfoo.dylib",
                 "fixtures/demo/Demo.app/Contents/Info.plist", "addon.node"):
        assert files.search(path), path
    for path in ("README.md", "src/main.go", "Apps/notes.txt"):
        assert not files.search(path), path


def _console_scripts() -> set[str]:
    import tomllib

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return set(pyproject["project"]["scripts"])


def test_pre_commit_hook_entry_lints_the_args(tmp_path: Path) -> None:
    (hook,) = _hooks()
    entry = [str(SUITE_BUNDLELINT), *hook["entry"].split()[1:]]
    proc = subprocess.run([*entry, "--no-color", str(DEMO)], capture_output=True, text=True,
                          cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert "4 errors, 1 warning, 0 info in 2 files" in proc.stdout
    bare = subprocess.run(entry, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert bare.returncode == 2  # no args: a usage error, not a silent pass


def test_readme_local_pre_commit_hook_matches_the_manifest(tmp_path: Path) -> None:
    (config,) = [yaml.safe_load(b) for b in _fenced("yaml") if "repos:" in b]
    (local,) = config["repos"][0]["hooks"]
    (hook,) = _hooks()
    assert local["id"] == hook["id"] and local["entry"] == hook["entry"]
    assert local["pass_filenames"] is False
    assert re.search(local["files"], "build/MyApp.app/Contents/MacOS/MyApp")
    status, _ = _run_with_myapp(tmp_path, [[hook["entry"], *local["args"]]])
    assert status == 1


# --- GitLab CI and the plain shell step --------------------------------------------------------


def _fenced(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.M | re.S)


def _run_with_myapp(cwd: Path, lines: list[list[str] | str]) -> tuple[int, str]:
    """Run lines (a shell string, or an argv) in ``cwd`` with ``build/MyApp.app`` a copy of
    the demo and the suite's bundlelint first on PATH; stop at the first failing line, as
    GitLab's runner and `set -e` do. Returns the status and the combined output."""
    app = cwd / "build" / "MyApp.app"
    if not app.exists():
        shutil.copytree(DEMO, app, symlinks=True)
    env = {**os.environ, "PATH": f"{SUITE_BUNDLELINT.parent}{os.pathsep}{os.environ['PATH']}"}
    out = []
    for line in lines:
        argv = ["bash", "--noprofile", "--norc", "-c", line] if isinstance(line, str) else line
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                              check=False)
        out.append(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            return proc.returncode, "".join(out)
    return 0, "".join(out)


def _gitlab_job() -> dict[str, Any]:
    (doc,) = [yaml.safe_load(b) for b in _fenced("yaml") if "GIT_SUBMODULE_STRATEGY" in b]
    job: dict[str, Any] = doc["bundlelint"]
    return job


def _without_install(lines: list[str]) -> list[str]:
    """The snippet's lines but its install line, which must be the documented one."""
    installs = [line for line in lines if line.startswith("pip install")]
    assert [i.split("#")[0].strip() for i in installs] == ["pip install ./tools/bundlelint"]
    return [line for line in lines if not line.startswith("pip install")]


def test_gitlab_snippet_fails_the_job_on_errors_and_keeps_the_report(tmp_path: Path) -> None:
    job = _gitlab_job()
    status, output = _run_with_myapp(tmp_path, _without_install(job["script"]))
    assert status == 1
    assert "4 errors, 1 warning, 0 info in 2 files" in output
    (artifact,) = job["artifacts"]["paths"]
    report = json.loads((tmp_path / artifact).read_text())
    assert report["summary"] == {"errors": 4, "warnings": 1, "info": 0}
    assert job["artifacts"]["when"] == "always"


def test_gitlab_snippet_passes_when_only_warnings(tmp_path: Path) -> None:
    _demo_as_warnings(tmp_path)
    status, output = _run_with_myapp(tmp_path, _without_install(_gitlab_job()["script"]))
    assert status == 0, output
    report = json.loads((tmp_path / "bundlelint.json").read_text())
    assert report["summary"] == {"errors": 0, "warnings": 5, "info": 0}


def test_shell_snippet_fails_the_step_and_writes_json(tmp_path: Path) -> None:
    (block,) = [b for b in _fenced("sh") if b.startswith("set -e\npip install ./tools/")]
    script = "\n".join(_without_install(block.splitlines()))
    status, output = _run_with_myapp(tmp_path, [script])
    assert status == 1
    # --output: only the summary is printed, no finding
    assert output.strip().startswith("4 errors, 1 warning, 0 info in 2 files")
    assert "BL20" not in output and "codesign" not in output
    assert json.loads((tmp_path / "bundlelint.json").read_text())["inputs"] == ["MyApp.app"]
