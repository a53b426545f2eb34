"""HTTPS with TLS 1.3 and mutual TLS: the reference refuses what it must, and the suite
runs over it with a CA bundle and a client certificate from the target file."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys

import httpx
import pytest

from opcp.paths import REPO
from opcp_reference.tls import make_local_tls
from tests.conftest import ServedReference


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_local_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def mtls_server(tmp_path, pki):
    server = ServedReference(
        tmp_path / "data", "--tls-cert", str(pki["server"].with_suffix(".pem")),
        "--tls-key", str(pki["server"].with_suffix(".key")),
        "--client-ca", str(pki["ca"].with_suffix(".pem")), scheme="https")
    yield server
    server.stop()


def _context(pki, client: str | None, maximum=None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki["ca"].with_suffix(".pem")))
    if client:
        context.load_cert_chain(pki[client].with_suffix(".pem"), pki[client].with_suffix(".key"))
    if maximum:
        context.maximum_version = maximum
    return context


def _get(server, context) -> httpx.Response:
    return httpx.get(server.base_url + "/.well-known/jwks.json", verify=context)


def test_mutual_tls_accepts_a_valid_client_certificate(mtls_server, pki):
    got = _get(mtls_server, _context(pki, "client"))
    assert got.status_code == 200
    with socket.create_connection(("127.0.0.1", mtls_server.port)) as raw, \
            _context(pki, "client").wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        assert tls.version() == "TLSv1.3"


@pytest.mark.parametrize("client", [None, "client-expired"])
def test_mutual_tls_refuses_missing_or_expired_client_certificates(mtls_server, pki, client):
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        _get(mtls_server, _context(pki, client))


def test_mutual_tls_refuses_a_client_certificate_of_another_ca(mtls_server, pki, tmp_path):
    other = make_local_tls(tmp_path / "other")
    context = ssl.create_default_context(cafile=str(pki["ca"].with_suffix(".pem")))
    context.load_cert_chain(other["client"].with_suffix(".pem"),
                            other["client"].with_suffix(".key"))
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        _get(mtls_server, context)


def test_tls12_is_refused_unless_allowed(mtls_server, pki):
    with pytest.raises(httpx.ConnectError):
        _get(mtls_server, _context(pki, "client", maximum=ssl.TLSVersion.TLSv1_2))


def test_tls12_is_accepted_with_the_explicit_flag(tmp_path, pki):
    server = ServedReference(
        tmp_path / "data", "--tls-cert", str(pki["server"].with_suffix(".pem")),
        "--tls-key", str(pki["server"].with_suffix(".key")), "--allow-tls12", scheme="https")
    try:
        got = _get(server, _context(pki, None, maximum=ssl.TLSVersion.TLSv1_2))
        assert got.status_code == 200
    finally:
        server.stop()


@pytest.mark.slow  # the whole suite over mutual TLS
def test_the_suite_runs_over_mutual_tls(mtls_server, pki, tmp_path):
    target = tmp_path / "target.toml"
    target.write_text((mtls_server.data_dir / "target.toml").read_text()
                      + f'\n[tls]\nca_bundle = "{pki["ca"].with_suffix(".pem")}"\n'
                        f'client_cert = "{pki["client"].with_suffix(".pem")}"\n'
                        f'client_key = "{pki["client"].with_suffix(".key")}"\n')
    target.write_text(target.read_text().replace("clients.json",
                                                 str(mtls_server.data_dir / "clients.json")))
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "check", "--target", str(target),
                           "--results", str(tmp_path / "r"), "--junit", str(tmp_path / "j.xml")],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "https://127.0.0.1" in proc.stdout and " 0 failed" in proc.stdout
