"""The target file's `iso20` key: ISO 15118-20 support is declared, never assumed, and the
@iso20 scenarios are not applicable without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.support.iso20 import need_iso20
from opcp.client import OpcpClient
from opcp.target import TargetError, from_dict

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
