"""A target file's [peer]: the peer ecosystem by its own target file or inline, checked like
the target itself (unknown keys with "did you mean", required keys named with `peer.`)."""

from __future__ import annotations

import pytest

from opcp.target import TargetError, load

CLIENT = '[[clients]]\nrole = "CPO"\nclient_id = "{id}"\nclient_secret = "{secret}"\n'


def _file(path, name: str, extra: str = "", client: str = "cpo-1") -> object:
    # A bare key (no table header) must come before [[clients]] to stay at the top level.
    top, tables = (extra, "") if not extra.startswith("[") else ("", extra)
    path.write_text(f'name = "{name}"\nbase_url = "http://{name}.example"\naudience = "aud"\n'
                    + top + CLIENT.format(id=client, secret=f"secret-of-{name}") + tables)
    return path


def test_a_peer_named_by_its_target_file_is_loaded_without_following_its_own_peer(tmp_path):
    _file(tmp_path / "b.toml", "b", '[peer]\ntarget_file = "a.toml"\n', client="cpo-b")
    _file(tmp_path / "a.toml", "a", '[peer]\ntarget_file = "b.toml"\n')
    a = load(tmp_path / "a.toml")
    assert a.peer is not None and a.peer.name == "b" and a.peer.client("CPO").client_id == "cpo-b"
    assert a.peer.peer is None  # the two name each other: one level is followed
    assert "secret-of-b" in a.secrets()
    assert load(tmp_path / "a.toml", follow_peer=False).peer is None


def test_a_peer_given_inline_is_a_target(tmp_path):
    target = load(_file(tmp_path / "a.toml", "a", '[peer]\nname = "b"\nbase_url = "http://b"\n'
                        'audience = "aud-b"\n[[peer.clients]]\nrole = "OEM"\nclient_id = "o"\n'
                        'client_secret = "s"\nwmis = ["WMA"]\n'))
    assert target.peer.base_url == "http://b" and target.peer.token_url == "http://b/oauth/token"
    assert target.peer.client("OEM").wmis == ("WMA",)


@pytest.mark.parametrize(("peer", "message"), [
    ('[peer]\ntarget_fle = "b.toml"\n', "peer.target_fle: unknown key; did you mean 'target_file'?"),
    ('[peer]\ntarget_file = "b.toml"\nbase_url = "http://b"\n',
     "peer: target_file names the peer's own file; base_url belong in that file"),
    ('[peer]\ntarget_file = "missing.toml"\n', "peer.target_file: "),
    ('[peer]\nbase_url = "http://b"\n', "peer.audience: is required"),
    ('peer = "b.toml"\n', "peer: must be a table"),
    ('[peer]\nbase_url = "http://b"\naudience = "x"\n[peer.peer]\nbase_url = "c"\n',
     "peer.peer: unknown key"),
])
def test_a_bad_peer_is_refused_naming_the_key(tmp_path, peer, message):
    with pytest.raises(TargetError) as caught:
        load(_file(tmp_path / "a.toml", "a", peer))
    assert message in str(caught.value)
    if "missing" in peer:
        assert "no such target file" in str(caught.value)
