"""Finding paths seen from the input root, and the globs that configuration matches them with.

A finding's location starts with the input's name (``Demo.app/Contents/MacOS/demo``). Per-path
ignores, expected entitlements and baseline fingerprints use the path *inside* the input
(``Contents/MacOS/demo``) so that renaming the ``.app`` (``Demo.app`` -> ``Demo 2.app``, a
versioned build directory) changes nothing; the input itself is ``.``.
"""

from __future__ import annotations

import re
from functools import lru_cache

ROOT = "."


def input_relative(path: str, input_name: str) -> str:
    """``path`` (a finding location) relative to the input root; ``.`` for the input itself."""
    if path == input_name:
        return ROOT
    prefix = input_name + "/"
    if path.startswith(prefix):
        return path[len(prefix):]
    return path


@lru_cache(maxsize=256)
def glob_regex(glob: str) -> re.Pattern[str]:
    """Compile a path glob: ``**`` crosses ``/``, ``*`` and ``?`` do not; ``**/`` may match
    nothing (so ``**/*.dylib`` matches a top-level dylib too)."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def path_matches(glob: str, path: str, input_name: str) -> bool:
    """Whether ``glob`` matches a finding's ``path``.

    A glob with a ``/`` matches the path inside the input (``Contents/Frameworks/**``); one
    without matches the last component at any depth (``*.dylib``, like .gitignore). A trailing
    ``/`` means "everything under". The full path with the input's name also matches, for
    people who write ``Demo.app/Contents/...``.
    """
    if glob.endswith("/"):
        glob += "**"
    rel = input_relative(path, input_name)
    if "/" not in glob:
        name = rel.rsplit("/", 1)[-1] if rel != ROOT else input_name
        return bool(glob_regex(glob).match(name))
    regex = glob_regex(glob.lstrip("/"))
    return bool(regex.match(rel) or regex.match(path))
