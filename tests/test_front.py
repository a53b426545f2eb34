"""`opcp up --instances`: what it refuses, and the nginx configuration it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from opcp_cli import main
from opcp_cli.sandbox import nginx_config


@pytest.mark.parametrize(("args", "said"), [
    (["--instances", "2"], "--store: several instances share one PostgreSQL store"),
    (["--instances", "2", "--store", "/tmp/x.sqlite3"], "--store: several instances"),
    (["--instances", "0", "--store", "postgresql://u@h/d"], "--instances: must be 1 or more"),
    (["--instances", "2", "--store", "postgresql://u@h/d", "--tls"], "--tls: not with --instances"),
])
def test_up_refuses_what_cannot_run_and_says_why(args, said, capsys, tmp_path):
    assert main(["up", "--data-dir", str(tmp_path), *args]) == 2
    assert said in capsys.readouterr().out


def test_the_front_balances_over_every_instance_on_loopback(tmp_path: Path):
    conf = nginx_config(tmp_path, "127.0.0.1", 8080, ["127.0.0.1:9001", "127.0.0.1:9002"])
    assert "listen 127.0.0.1:8080;" in conf
    assert conf.count("server 127.0.0.1:900") == 2
    assert f"pid {tmp_path}/nginx.pid;" in conf and "daemon off;" in conf
    # A write is never sent to a second instance: only errors before a request went out, and
    # nginx's rule that non-idempotent requests are not tried again.
    assert "proxy_next_upstream error timeout http_502;" in conf
    assert "non_idempotent" not in conf
