"""The release artifacts: `python -m build` makes a wheel and an sdist that pass `twine check
--strict`, with the metadata an index page needs, and the sdist carries what the suite needs.

The build runs offline (`--no-isolation`, with the setuptools of this environment) in a copy of
the checkout, so nothing is written here. It needs the ``dev`` extra (build, twine,
setuptools>=77), which `.ci/run` installs before the suite; without it the tests skip saying so.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.parser import HeaderParser
from importlib.metadata import version
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]
#: Tracked files that are CI's or git's own, not part of an sdist.
NOT_IN_SDIST = {".ci/run", ".gitignore"}


def _dev_extra_missing() -> str | None:
    for module in ("build", "twine", "setuptools"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[dev]')"
    if int(version("setuptools").split(".")[0]) < 77:
        return "setuptools < 77 cannot write the SPDX license (pip install -e '.[dev]')"
    return None


pytestmark = pytest.mark.skipif(_dev_extra_missing() is not None,
                                reason=str(_dev_extra_missing()))


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("packaging")
    source = work / "src"
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv*", ".cache", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
        ".hypothesis"))
    out = work / "dist"
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
                    str(source)], check=True, capture_output=True, text=True, timeout=600)
    return out


def _wheel(dist: Path) -> Path:
    return dist / f"bundlelint-{VERSION}-py3-none-any.whl"


def _sdist(dist: Path) -> Path:
    return dist / f"bundlelint-{VERSION}.tar.gz"


def test_build_makes_a_wheel_and_an_sdist_that_pass_twine_check(dist: Path) -> None:
    assert sorted(p.name for p in dist.iterdir()) == sorted([_wheel(dist).name,
                                                             _sdist(dist).name])
    proc = subprocess.run([sys.executable, "-m", "twine", "check", "--strict",
                           *map(str, dist.iterdir())], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2


def test_wheel_metadata(dist: Path) -> None:
    with zipfile.ZipFile(_wheel(dist)) as zf:
        meta = HeaderParser().parsestr(
            zf.read(f"bundlelint-{VERSION}.dist-info/METADATA").decode())
        names = set(zf.namelist())
        entry_points = zf.read(f"bundlelint-{VERSION}.dist-info/entry_points.txt").decode()
    assert meta["Name"] == "bundlelint" and meta["Version"] == VERSION
    assert meta["License-Expression"] == "MIT"  # SPDX, not the deprecated table form
    assert meta["Requires-Python"] == ">=3.11"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().startswith("# bundlelint")  # the README is the long description
    classifiers = meta.get_all("Classifier")
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert not any(c.startswith("License ::") for c in classifiers)  # the expression says it
    assert {r.split(";")[0].split(">")[0].strip() for r in meta.get_all("Requires-Dist")
            if "extra ==" not in r} == {"macholib", "asn1crypto", "cryptography", "rich",
                                        "cyclonedx-python-lib", "lzfse"}
    assert set(meta.get_all("Provides-Extra")) == {"test", "dev"}
    assert "bundlelint = bundlelint.cli:main" in entry_points
    assert f"bundlelint-{VERSION}.dist-info/licenses/LICENSE" in names
    assert {"bundlelint/py.typed", "bundlelint/reporters/schema/report-v1.schema.json"} <= names
    assert not any(n.startswith(("tests/", "fixtures/")) for n in names)


def test_sdist_carries_every_tracked_file_the_suite_needs(dist: Path) -> None:
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: nothing to compare the sdist with")
    tracked = subprocess.run([git, "ls-files"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.splitlines()
    prefix = f"bundlelint-{VERSION}/"
    with tarfile.open(_sdist(dist)) as tf:
        members = {m.name.removeprefix(prefix) for m in tf.getmembers()}
    missing = sorted(set(tracked) - NOT_IN_SDIST - members)
    assert missing == []
    assert not any("__pycache__" in m or m.endswith(".pyc") for m in members)


def test_tests_run_from_the_unpacked_sdist(dist: Path, tmp_path: Path) -> None:
    """Not just present: the fixtures, conftest and demo bundle work from the sdist."""
    with tarfile.open(_sdist(dist)) as tf:
        tf.extractall(tmp_path, filter="tar")
    root = tmp_path / f"bundlelint-{VERSION}"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_demo.py"], cwd=root, capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "skipped" not in proc.stdout
