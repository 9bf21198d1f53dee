"""Extra trust anchors for test fixtures: read from files named on the command line.

Production trust is the pinned Apple roots in ``bundlelint.analysis.cms``. An extra anchor only
lets a chain that ends at *that* certificate verify (for code signed by a throwaway test CA); it
never makes a certificate count as Apple-issued, and findings say which root a chain ended at.
"""

from __future__ import annotations

import os
from pathlib import Path

from bundlelint.errors import UsageError

ENV_VAR = "BUNDLELINT_EXTRA_TRUST_ANCHOR"


def load_anchor(path: Path) -> bytes:
    """The DER bytes of the certificate in ``path`` (PEM or DER)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read trust anchor {path}: {exc.strerror or exc}") from None
    try:
        cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
                else x509.load_der_x509_certificate(data))
    except (ValueError, x509.InvalidVersion):
        # cryptography's own reason is a parser internal (a Rust error value): not for users.
        form = "PEM" if b"-----BEGIN" in data else "DER"
        raise UsageError(f"trust anchor {path} is not an X.509 certificate (read as {form}; "
                         "give a PEM or DER certificate file)") from None
    return cert.public_bytes(Encoding.DER)


def anchors_from(paths: list[Path] | None, environ: dict[str, str] | None = None) -> tuple[
        bytes, ...]:
    """Anchors from ``--trust-anchor`` flags plus ``BUNDLELINT_EXTRA_TRUST_ANCHOR``
    (``os.pathsep``-separated paths)."""
    env = os.environ if environ is None else environ
    files = list(paths or [])
    files += [Path(p) for p in env.get(ENV_VAR, "").split(os.pathsep) if p]
    return tuple(load_anchor(p) for p in files)
