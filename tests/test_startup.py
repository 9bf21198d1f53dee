"""Start-up: a command imports what it uses. ``--version`` imports none of the heavy
dependencies (nor the engine), and a lint of the demo bundle, which has no CMS signature and no
archive to verify, imports no X.509/CMS code and no other subcommand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bundlelint.cli import COMMAND_MODULES, command_name

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("rich", "cryptography", "asn1crypto", "macholib")

IMPORTS = (
    "import contextlib, io, sys\n"
    "from bundlelint.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
    "    code = main(sys.argv[1:])\n"
    "modules = sorted(sys.modules)\n"
    "import json\n"
    "print(json.dumps({'code': code, 'out': out.getvalue(), 'modules': modules}))\n"
)


def run_and_list_imports(*args: str) -> tuple[int, str, set[str]]:
    # Without the test CA that conftest trusts through the environment: loading it is real
    # use of cryptography, which this test is not about.
    env = {k: v for k, v in os.environ.items() if k != "BUNDLELINT_EXTRA_TRUST_ANCHOR"}
    done = subprocess.run([sys.executable, "-c", IMPORTS, *args], cwd=REPO, capture_output=True,
                          text=True, check=True, timeout=120, env=env)
    doc = json.loads(done.stdout)
    return doc["code"], doc["out"], set(doc["modules"])


def test_version_imports_nothing_heavy() -> None:
    code, out, modules = run_and_list_imports("--version")
    assert (code, out) == (0, "bundlelint 0.1.0\n")
    roots = {m.split(".")[0] for m in modules}
    assert not roots & set(HEAVY), roots & set(HEAVY)
    ours = {m for m in modules if m.startswith("bundlelint")}
    assert ours <= {"bundlelint", "bundlelint.cli", "bundlelint.commands",
                    "bundlelint.errors", "bundlelint.exitstatus"}, ours
    assert "argparse" not in modules


def test_demo_lint_imports_only_what_it_uses() -> None:
    code, out, modules = run_and_list_imports("--isolated", "fixtures/demo/Demo.app")
    assert code == 1 and "BL201" in out
    roots = {m.split(".")[0] for m in modules}
    assert {"rich", "macholib"} <= roots  # the report and the Mach-O parser are used
    assert not roots & {"cryptography", "asn1crypto"}  # no CMS signature in the demo
    assert not roots & {"cyclonedx", "packageurl"}  # only `bundlelint sbom` writes SBOMs
    assert not {m for m in modules if m.startswith(("bundlelint.sbom",
                                                    "bundlelint.analysis.components"))}
    assert "multiprocessing" not in roots  # too small for hashing workers
    others = {f"bundlelint.commands.{m.rpartition('.')[2]}" for m in COMMAND_MODULES} - {
        "bundlelint.commands.check"}
    assert not modules & others, modules & others
    assert not {"bundlelint.baseline", "bundlelint.reporters.json_report",
                "bundlelint.reporters.sarif", "json"} & modules


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_command_names_are_known_without_importing(module: str) -> None:
    import importlib

    assert command_name(module) == importlib.import_module(module).NAME
