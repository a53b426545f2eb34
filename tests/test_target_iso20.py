"""The target file's `iso20` key: ISO 15118-20 support is declared, never assumed, and the
@iso20 scenarios are not applicable without it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from features.support.iso20 import ed448_est_chain, need_iso20
from opcp.client import OpcpClient
from opcp.target import TargetError, from_dict
from opcp_reference.domain.est import certs_only
from v2g.pki.builder import issue
from v2g.pki.profiles import profile_name

BASE = {"base_url": "https://pool.example", "audience": "https://pool.example"}


def test_iso20_is_off_unless_declared():
    assert from_dict(dict(BASE), Path(".")).iso20 is False
    assert from_dict({**BASE, "iso20": True}, Path(".")).iso20 is True


def test_iso20_must_be_a_boolean():
    with pytest.raises(TargetError) as err:
        from_dict({**BASE, "iso20": "yes"}, Path("."))
    assert str(err.value).startswith("iso20:")


def test_a_misspelled_key_is_named_with_the_right_one():
    with pytest.raises(TargetError) as err:
        from_dict({**BASE, "iso_20": True}, Path("."))
    assert "iso20" in str(err.value)


@pytest.mark.parametrize("declared, services, applicable", [
    (False, ["est"], False), (True, ["rcp"], False), (True, ["est"], True)])
def test_iso20_scenarios_apply_only_to_a_target_declaring_it(declared, services, applicable):
    target = from_dict({**BASE, "iso20": declared, "services": services}, Path("."))
    client = OpcpClient(target)
    try:
        if applicable:
            need_iso20(client)
        else:
            with pytest.raises(pytest.skip.Exception) as skipped:
                need_iso20(client)
            assert str(skipped.value).startswith("not applicable")
    finally:
        client.close()


def _client_answering(status: int, body: bytes, content_type: str) -> OpcpClient:
    """A client of a target with EST whose every answer is `status` with `body` (the OEM's
    token is taken as given: only the EST answer matters here)."""
    target = from_dict({**BASE, "iso20": True, "services": ["est"], "clients": [
        {"role": "OEM", "client_id": "oem-1", "client_secret": "s", "wmis": ["WMA"]}]},
        Path("."))
    client = OpcpClient(target)
    client._tokens[("OEM", 0)] = "token"
    client._http = httpx.Client(transport=httpx.MockTransport(
        lambda request: httpx.Response(status, content=body,
                                       headers={"Content-Type": content_type})))
    return client


def test_ed448_est_scenarios_are_not_applicable_where_the_est_offers_no_ed448_ca():
    client = _client_answering(404, b'{"errorMessages": ["no ed448"]}', "application/json")
    try:
        with pytest.raises(pytest.skip.Exception) as skipped:
            ed448_est_chain(client)
        assert str(skipped.value).startswith("not applicable") and "ed448" in str(skipped.value)
    finally:
        client.close()


def test_an_ed448_est_ca_that_answers_badly_fails_rather_than_skips():
    client = _client_answering(500, b"oops", "text/plain")
    try:
        with pytest.raises(AssertionError, match="500"):
            ed448_est_chain(client)
    finally:
        client.close()


def test_an_ed448_est_chain_is_read_as_certs_only():
    root = issue(profile_name("v2g_root", "ed448"), "Test V2G Root ed448")
    body = certs_only([root.cert]).encode()
    client = _client_answering(200, body, "application/pkcs7-mime; smime-type=certs-only")
    try:
        assert [c.subject for c in ed448_est_chain(client)] == [root.cert.subject]
    finally:
        client.close()
