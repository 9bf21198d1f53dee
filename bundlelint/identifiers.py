"""Apple identifiers a user hands us (a Team ID, a CFBundleIdentifier): one validator each,
used by the command line, the configuration file and the Python API alike, so a value refused in
one place is refused in all of them.

- Team ID: ten upper-case letters or digits, as in the OU of a Developer ID certificate and
  the ``TeamIdentifier`` codesign prints.
- CFBundleIdentifier: "only alphanumeric characters (A-Z, a-z, and 0-9), hyphens (-), and
  periods (.)" (Apple's documentation page for the ``CFBundleIdentifier`` key).
"""

from __future__ import annotations

import re

TEAM_ID_PATTERN = re.compile(r"[A-Z0-9]{10}")
BUNDLE_IDENTIFIER_PATTERN = re.compile(r"[A-Za-z0-9.\-]+")


def team_id_problem(value: object) -> str | None:
    """Why ``value`` is not an Apple Team ID, or ``None`` when it is one."""
    if isinstance(value, str) and TEAM_ID_PATTERN.fullmatch(value):
        return None
    return f"must be a 10-character Apple Team ID, not {value!r}"


def bundle_identifier_problem(value: object) -> str | None:
    """Why ``value`` is not a valid CFBundleIdentifier, or ``None`` when it is one."""
    if isinstance(value, str) and BUNDLE_IDENTIFIER_PATTERN.fullmatch(value):
        return None
    return (f"must be a bundle identifier of letters, digits, hyphens and periods "
            f"(such as com.example.app), not {value!r}")
