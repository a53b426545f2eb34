"""Throwaway PostgreSQL clusters and nginx fronts on loopback, for tests, benches, CI and `opcp up`.

Guarantees:
- a cluster lives in a directory of its own (initdb), listens on 127.0.0.1 only, on a port
  picked free, with its Unix socket inside that directory; trust authentication is enough
  because nothing but loopback reaches it. `stop()` ends the server and removes its files;
- run as root (CI, these machines), the server runs as the `postgres` user that Debian's
  package creates, since PostgreSQL refuses to run as root;
- `restart()` and `kill()` serve the fault tests: a restart keeps the data, a kill is SIGKILL
  to the postmaster (PostgreSQL's crash recovery runs at the next start);
- an nginx front balances over given upstreams, with its config, logs and pid in a directory
  of its own, and is stopped by its pid.

Needs Debian's postgresql and nginx packages (`.ci/run` installs them). Used as a command too:

    python -m opcp_cli.sandbox postgres DIR   # start a cluster in DIR, print its URL, keep it
    python -m opcp_cli.sandbox stop DIR       # stop the cluster started in DIR
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_USER = "opcp"  # the cluster's superuser; the reference connects as it
OS_USER = "postgres"  # who runs the server when we are root


class SandboxError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name: str) -> str:
    """A PostgreSQL server program: on PATH, else in Debian's versioned directory."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0)
    if not candidates:
        raise SandboxError(f"{name}: not found; install Debian's postgresql package")
    return candidates[-1]


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", OS_USER, "--", *argv]


class PostgresCluster:
    """One PostgreSQL server in its own directory, on a free loopback port."""

    def __init__(self, directory: Path | None = None, port: int | None = None):
        self._owned = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="opcp-pg-"))
        self.port = port or free_port()
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"

    def url(self, database: str = "opcp") -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(_as_server_user(list(argv)), capture_output=True, text=True)
        if check and done.returncode != 0:
            raise SandboxError(f"{Path(argv[0]).name} failed ({done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()[-2000:]}")
        return done

    def start(self) -> PostgresCluster:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            for parent in self.directory.resolve().parents:
                if not parent.stat().st_mode & 0o001:
                    raise SandboxError(f"{parent}: the {OS_USER} user cannot enter it (mode"
                                       f" {parent.stat().st_mode & 0o777:o}); chmod o+x it")
            user = pwd.getpwnam(OS_USER)
            os.chown(self.directory, user.pw_uid, user.pw_gid)
            os.chmod(self.directory, 0o700)
        if not (self.data / "PG_VERSION").exists():
            self._run(pg_bin("initdb"), "-D", str(self.data), "-U", PG_USER, "--auth=trust",
                      "--encoding=UTF8", "--locale=C", "--no-sync")
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write("\n# opcp sandbox: loopback only, socket in its own directory\n"
                           "listen_addresses = '127.0.0.1'\n"
                           f"unix_socket_directories = '{self.directory}'\n"
                           "max_connections = 200\nshared_buffers = 256MB\n"
                           "fsync = on\nsynchronous_commit = on\n")
        self._pg_ctl_start()
        self._wait_ready()
        self._ensure_database("opcp")
        return self

    def _pg_ctl_start(self) -> None:
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o",
                  f"-p {self.port}", "-w", "-t", "60", "start")

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = subprocess.run([pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                  capture_output=True)
            if done.returncode == 0:
                return
            time.sleep(0.1)
        raise SandboxError(f"PostgreSQL on port {self.port} not ready: {self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return self.log.read_text()[-2000:]
        except OSError:
            return "(no log)"

    def _ensure_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')

    def fresh_database(self, name: str) -> str:
        """Drop and create database `name`; its URL."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop (fast: sessions are cut) and start again, keeping the data."""
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        time.sleep(down_seconds)
        self._pg_ctl_start()
        self._wait_ready()

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop",
                      check=False)
        if self._owned:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 2m;
    upstream opcp {{
{servers}        keepalive 32;
    }}
    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://opcp;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # An instance that is gone (killed, restarting) costs one try, not the request;
            # only idempotent requests are tried again (nginx's default), so no write is
            # sent twice.
            proxy_next_upstream error timeout http_502;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


def nginx_config(directory: Path, host: str, port: int, upstreams: list[str]) -> str:
    servers = "".join(f"        server {u} max_fails=1 fail_timeout=2s;\n" for u in upstreams)
    return NGINX_CONF.format(dir=directory, host=host, port=port, servers=servers)


class NginxFront:
    """nginx balancing (round robin) over `upstreams` ("host:port"), as a child process."""

    def __init__(self, upstreams: list[str], host: str = "127.0.0.1", port: int | None = None,
                 directory: Path | None = None):
        self._owned = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="opcp-nginx-"))
        self.host, self.port = host, port or free_port()
        self.upstreams = upstreams
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> NginxFront:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise SandboxError("nginx: not found; install Debian's nginx-light package")
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.directory / "nginx.conf"
        conf.write_text(nginx_config(self.directory, self.host, self.port, self.upstreams))
        self.proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(self.directory)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SandboxError(f"nginx exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise SandboxError("nginx did not listen within 15 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish requests in flight
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._owned:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> NginxFront:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opcp_cli.sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("postgres", help="start a cluster in DIR and print its URL")
    start.add_argument("directory", type=Path)
    start.add_argument("--port", type=int, default=None)
    stop = sub.add_parser("stop", help="stop the cluster in DIR")
    stop.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    cluster = PostgresCluster(args.directory, getattr(args, "port", None))
    if args.command == "postgres":
        if (cluster.data / "postmaster.pid").exists():
            print(f"a cluster already runs in {args.directory}", file=sys.stderr)
            return 1
        cluster.start()
        (args.directory / "url").write_text(cluster.url())
        print(cluster.url())
        return 0
    cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
