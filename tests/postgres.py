"""A real PostgreSQL server for the tests, started from Debian's `postgresql` package.

`initdb` into a temporary folder and `postgres` on a free loopback port; PostgreSQL refuses to run
as root, so as root the server runs as the `postgres` user (the package makes it). Tests that need
it skip where the binaries are absent.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.bench.ports import free_port

SERVER_USER = "postgres"  # who runs the server when the tests run as root


def binaries() -> Path | None:
    """The folder of initdb and postgres (`pg_config --bindir`), or None where they are absent."""
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
    folder = Path(found.stdout.strip())
    return folder if (folder / "initdb").is_file() and (folder / "postgres").is_file() else None


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", SERVER_USER, "--", *args]


class PostgresServer:
    """A running server; `url(name)` creates a database of that name and gives its URL."""

    def __init__(self, port: int, user: str) -> None:
        self.port, self.user = port, user
        self._count = 0

    def url(self, database: str | None = None) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database or 'postgres'}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        self._count += 1
        name = f"test_{self._count}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def postgres_server(bindir: Path) -> Iterator[PostgresServer]:
    """initdb, start, yield, stop (fast shutdown), delete the folder."""
    root = Path(tempfile.mkdtemp(prefix="captionbot-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    user = SERVER_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        shutil.chown(root, SERVER_USER)
        shutil.chown(sockets, SERVER_USER)
    subprocess.run(
        _as_server_user(
            [str(bindir / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = (root / "server.log").open("w")
    server = subprocess.Popen(
        _as_server_user(
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-h",
                "127.0.0.1",
                "-k",
                str(sockets),
                "-c",
                "fsync=off",  # a test server: its data need not survive a power cut
                "-c",
                "max_connections=200",
            ]
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(port, user, server, root / "server.log")
        yield PostgresServer(port, user)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _wait_for(port: int, user: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"postgres exited with {server.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except OSError:
            time.sleep(0.1)
            continue
        import psycopg

        try:
            psycopg.connect(f"host=127.0.0.1 port={port} dbname=postgres user={user}").close()
            return
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise RuntimeError(f"postgres did not start on port {port}: {log.read_text()}")
