"""Media types are read as RFC 9110 says, whatever their spelling."""

import pytest

from opcp import media_types
from opcp.models import check_response


@pytest.mark.parametrize("header", ["application/json", "Application/JSON", "application/json; charset=utf-8",
                                    "APPLICATION/JSON ;CHARSET=\"UTF-8\"", "application/problem+json"])
def test_json_in_any_spelling(header):
    assert media_types.is_json(header)


@pytest.mark.parametrize("header", ["", None, "text/json-ish", "application/jsonx", "text/html; a=application/json"])
def test_what_is_not_json(header):
    assert not media_types.is_json(header)


def test_parameters_have_case_insensitive_names_and_optionally_quoted_values():
    assert media_types.parse('Application/PKCS7-MIME; Smime-Type="certs-only"') == (
        "application/pkcs7-mime", {"smime-type": "certs-only"})


def test_the_response_model_check_accepts_any_spelling_of_json():
    body = b'{"errorMessages": ["x"], "traceId": "3f1c1b6e-2a4c-4c3e-9d55-6f1f2b8f6a10"}'
    assert check_response("GET", "/v1/root/rootCerts", 401, "APPLICATION/JSON; charset=UTF-8", body) == []
    assert check_response("GET", "/v1/root/rootCerts", 401, "text/html", body)
