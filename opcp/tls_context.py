"""Client TLS contexts, built once per setting for the whole process.

Guarantees: `client_context(...)` returns the same `ssl.SSLContext` for the same trust
setting (verify or not, CA bundle, client certificate and key) every time, built at the
first call; a context is never changed after it is built (the client certificate is part of
the setting and loaded then), so HTTP clients and threads may share it. A client that passes
it as httpx's `verify=` gets what `verify=True` / `verify=<CA context>` / `cert=` would have
given it (httpx's own defaults for the trust store, SSL_CERT_FILE and SSL_CERT_DIR included).

Why: building a context reads a whole CA bundle (tens of milliseconds). The reference makes
an HTTP client per OCSP check and per peer call; each paid that, and under the suite's load
it was the largest single cost of the reference's CPU.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.lru_cache(maxsize=64)
def client_context(verify: bool = True, ca_bundle: str | None = None,
                   client_cert: str | None = None, client_key: str | None = None) -> ssl.SSLContext:
    """The context for this setting: the CA bundle's anchors (httpx's default trust store when
    none is named) or, with `verify` false, no verification at all; with the client
    certificate (and key) loaded when one is named. Raises OSError / ssl.SSLError for files
    that cannot be read (not cached: the next call tries again)."""
    if not verify:
        context = httpx.create_ssl_context(verify=False)
    elif ca_bundle:
        context = ssl.create_default_context(cafile=ca_bundle)
    else:
        context = httpx.create_ssl_context()
    if client_cert:
        context.load_cert_chain(client_cert, client_key)
    return context
