"""The README says what is true: its shell commands run (against the demo bundle) with the exit
status it implies, its JSON example is the demo's real report, and the quick start is what CI runs.

Every command line of the README's ``sh`` blocks is listed below, either with how it is run here
or with where else it is verified: a new command in the README fails
``test_every_readme_command_is_accounted_for`` until it is added. The ``pip install`` half of the
first quick-start command is not run in the suite (a fresh virtual environment and a build take
a minute, and need PyPI for setuptools): ``.ci/run`` runs that line verbatim in a virtual
environment of its own and checks exit status 1, and ``test_ci_runs_the_quick_start_verbatim``
ties the two together.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import readme_json_example

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
DEMO = REPO / "fixtures" / "demo" / "Demo.app"
BUNDLELINT = Path(sys.executable).parent / "bundlelint"
QUICK_START = ("pip install . && bundlelint fixtures/demo/Demo.app",
               "pip install -e '.[test]' && pytest")

#: An Invalid log for the demo as Apple words it (shape of `notarytool log` output).
NOTARY_LOG = {
    "logFormatVersion": 1, "jobId": "2efe2717-52ef-43a5-96dc-0797e4ca1041", "status": "Invalid",
    "statusSummary": "Archive contains critical validation errors", "statusCode": 4000,
    "archiveFilename": "MyApp.zip", "uploadDate": "2026-01-01T00:00:00.000Z",
    "sha256": "0" * 64, "ticketContents": None,
    "issues": [{
        "severity": "error", "code": None, "path": "MyApp.zip/MyApp.app/Contents/MacOS/demo",
        "message": "The executable does not have the hardened runtime enabled.",
        "docUrl": "https://developer.apple.com/documentation/security/"
                  "resolving-common-notarization-issues",
        "architecture": "arm64",
    }],
}
#: What `xcrun notarytool info <id> --output-format json` prints for an accepted submission.
NOTARY_INFO = {"id": "2efe2717-52ef-43a5-96dc-0797e4ca1041", "status": "Accepted",
               "name": "MyApp.zip", "createdDate": "2026-01-01T00:00:00.000Z",
               "message": "Successfully received submission info"}

#: README command -> (the bundlelint command run here, stdin, expected exit status, output).
RUN_HERE: dict[str, tuple[str, str | None, int, str]] = {
    "pip install . && bundlelint fixtures/demo/Demo.app": (
        f"{BUNDLELINT} {DEMO}", None, 1, "4 errors, 1 warning, 0 info in 2 files"),
    "bundlelint --write-baseline bundlelint-baseline.json MyApp.app": (
        "bundlelint --write-baseline bundlelint-baseline.json MyApp.app", None, 0, ""),
    "bundlelint --baseline bundlelint-baseline.json MyApp.app": (
        "bundlelint --write-baseline bundlelint-baseline.json MyApp.app >/dev/null && "
        "bundlelint --baseline bundlelint-baseline.json MyApp.app", None, 0, ""),
    "bundlelint notary-log notary-log.json": (
        "bundlelint notary-log notary-log.json", None, 1, "hardened runtime"),
    "bundlelint notary-log notary-log.json --bundle MyApp.app": (
        "bundlelint notary-log notary-log.json --bundle MyApp.app", None, 1,
        "1 predicted, 0 missed, 3 local only"),
    "xcrun notarytool info <id> --output-format json | bundlelint notary-log -": (
        "bundlelint notary-log -", json.dumps(NOTARY_INFO), 0, "Accepted"),
    "bundlelint MyApp.zip": (
        "bundlelint MyApp.zip", None, 1, "4 errors, 1 warning, 0 info in 2 files"),
    "bundlelint sbom MyApp.app --output MyApp.cdx.json": (
        "bundlelint sbom MyApp.app --output MyApp.cdx.json && grep -o '\"bomFormat\": "
        "\"CycloneDX\"' MyApp.cdx.json", None, 0, '"bomFormat": "CycloneDX"'),
    "SOURCE_DATE_EPOCH=1700000000 bundlelint sbom MyApp.app --format spdx-json > MyApp.spdx.json":
        ("SOURCE_DATE_EPOCH=1700000000 bundlelint sbom MyApp.app --format spdx-json "
         "> MyApp.spdx.json && grep -o '\"created\": \"2023-11-14T22:13:20Z\"' MyApp.spdx.json",
         None, 0, '"created": "2023-11-14T22:13:20Z"'),
}

#: README command -> where it is verified instead (each reason names the test or script).
VERIFIED_ELSEWHERE = {
    "pip install -e '.[test]' && pytest": ".ci/run runs it verbatim",
    "pip install -e '.[dev]'": ".ci/run installs the dev extra",
    "python -m build": "tests/test_packaging.py (with --no-isolation)",
    "twine check --strict dist/*": "tests/test_packaging.py",
    "set -e": "tests/test_ci_integrations.py::test_shell_snippet_fails_the_step_and_writes_json",
    "pip install ./tools/bundlelint": "tests/test_ci_integrations.py (action install step)",
    "bundlelint --format json --output bundlelint.json build/MyApp.app":
        "tests/test_ci_integrations.py::test_shell_snippet_fails_the_step_and_writes_json",
    "xcrun notarytool log <submission-id> > notary-log.json": "macOS only (Apple's tool)",
    "ditto -c -k --keepParent MyApp.app MyApp.zip": "macOS only; made here with zipfile",
}


def _sh_commands() -> list[str]:
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", README, re.M | re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def test_every_readme_command_is_accounted_for() -> None:
    commands = _sh_commands()
    assert set(commands) == set(RUN_HERE) | set(VERIFIED_ELSEWHERE)


def _workspace(tmp_path: Path) -> Path:
    """MyApp.app (the demo), MyApp.zip (as `ditto -c -k --keepParent` makes it) and an Apple
    notary log for it, in a fresh directory."""
    app = tmp_path / "MyApp.app"
    shutil.copytree(DEMO, app, symlinks=True)
    with zipfile.ZipFile(tmp_path / "MyApp.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(app.rglob("*")):
            rel = path.relative_to(tmp_path).as_posix()
            if path.is_dir():
                zf.writestr(zipfile.ZipInfo(rel + "/"), b"")
            else:
                info = zipfile.ZipInfo(rel)
                info.external_attr = (path.stat().st_mode & 0xFFFF) << 16
                zf.writestr(info, path.read_bytes())
    (tmp_path / "notary-log.json").write_text(json.dumps(NOTARY_LOG))
    return tmp_path


@pytest.mark.parametrize("readme_command", sorted(RUN_HERE))
def test_readme_command_runs_with_the_status_it_implies(tmp_path: Path,
                                                        readme_command: str) -> None:
    assert readme_command in _sh_commands()
    command, stdin, status, output = RUN_HERE[readme_command]
    env_path = f"{BUNDLELINT.parent}:/usr/bin:/bin"
    proc = subprocess.run(["bash", "-c", f"set -o pipefail; {command}"], input=stdin,
                          cwd=_workspace(tmp_path), capture_output=True, text=True,
                          env={"PATH": env_path, "NO_COLOR": "1", "COLUMNS": "200"},
                          check=False)
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert output in proc.stdout


def test_baseline_written_by_the_readme_command_records_the_demo(tmp_path: Path) -> None:
    work = _workspace(tmp_path)
    subprocess.run([BUNDLELINT, "--write-baseline", "bundlelint-baseline.json", "MyApp.app"],
                   cwd=work, check=True, capture_output=True)
    recorded = json.loads((work / "bundlelint-baseline.json").read_text())
    assert "version" in recorded and len(json.dumps(recorded)) > 100
    assert "BL201" in json.dumps(recorded)


def test_ci_runs_the_quick_start_verbatim() -> None:
    block = re.search(r"## Quick start\n.*?```sh\n(.*?)```", README, re.S)
    assert block is not None
    assert tuple(block.group(1).splitlines()) == QUICK_START
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    install_and_lint, test = QUICK_START
    assert f"&& {install_and_lint})" in ci  # in a fresh venv; exit status 1 checked there
    assert f"\n{test}\n" in ci


def test_json_example_is_the_demo_report() -> None:
    """Regenerate with `python tests/readme_json_example.py --write`."""
    expected = readme_json_example.example(readme_json_example.demo_report())
    assert readme_json_example.readme_block(README) == expected, (
        "README's JSON example is stale: python tests/readme_json_example.py --write")


def test_readme_states_the_python_requirement() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["requires-python"] == ">=3.11"
    assert "needs Python 3.11 or newer" in README


def test_readme_never_says_pip_install_bundlelint_from_pypi() -> None:
    """No release is on PyPI: every install line names a checkout or a wheel."""
    assert re.findall(r"pip install bundlelint\b(?!-)", README) == [
        "pip install bundlelint"]  # the one sentence saying it finds nothing
    assert "`pip install bundlelint` finds nothing" in README
