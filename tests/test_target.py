from pathlib import Path

import pytest

from opcp.target import TargetError, load


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.toml"
    path.write_text(text)
    return path


def test_a_complete_target_file(tmp_path, monkeypatch):
    monkeypatch.setenv("OEM_SECRET", "s3cret")
    target = load(_write(tmp_path, """
name = "ACME"
base_url = "https://pool.example"
audience = "https://pool.example"
services = ["auth", "rcp"]
[base_urls]
rcp = "https://rcp.example/"
[tls]
ca_bundle = "ca.pem"
[[clients]]
role = "OEM"
client_id = "a"
client_secret_env = "OEM_SECRET"
wmis = ["WMA"]
"""))
    assert target.token_url == "https://pool.example/oauth/token"
    assert target.url("rcp", "/v1/x") == "https://rcp.example/v1/x"
    assert target.url("pcp", "/v1/x") == "https://pool.example/v1/x"
    assert target.client("OEM").client_secret == "s3cret"
    assert target.tls.ca_bundle == str(tmp_path / "ca.pem")
    assert not target.implements("ccp")
    assert "s3cret" not in repr(target)


@pytest.mark.parametrize("text,named", [
    ('audience = "x"', "base_url"),
    ('base_url = "x"', "audience"),
    ('base_url = "x"\naudience = "y"\nservices = ["nope"]', "services"),
    ('base_url = "x"\naudience = "y"\n[[clients]]\nrole = "OEM"', "clients[0].client_id"),
    ('base_url = "x"\naudience = "y"\n[[clients]]\nrole = "OEM"\nclient_id = "a"\n'
     'client_secret_env = "NOPE_NOT_SET_42"', "NOPE_NOT_SET_42"),
    ('base_url = = "x"', "not valid TOML"),
])
def test_bad_target_files_name_the_key(tmp_path, text, named):
    with pytest.raises(TargetError, match=named.replace("[", r"\[").replace("]", r"\]")):
        load(_write(tmp_path, text))
