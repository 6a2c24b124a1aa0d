"""Fixtures for the Python tests of the generated bindings: the generated module, and a live
pocketbook-server process on 127.0.0.1 with a team, a school and officers set up through its
admin commands."""

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GENERATED = ROOT / "target" / "bindings" / "python"
SERVER = ROOT / "target" / "debug" / "pocketbook-server"

sys.path.insert(0, str(GENERATED))


@pytest.fixture(scope="session")
def pb():
    """The generated module (scripts/bindings must have run)."""
    import pocketbook_ffi

    return pocketbook_ffi


class Server:
    """A running pocketbook-server with its admin commands."""

    def __init__(self, workdir: Path):
        self.db = workdir / "server.db"
        self.log = open(workdir / "server.log", "w")
        self.team = self.admin("team", "add", "Northfield Safer Schools Team")
        self.admin("establishment", "add", "--urn", "103254", "--name", "Northfield Academy",
                   "--kind", "secondary")
        self.proc = subprocess.Popen(
            [str(SERVER), "--db", str(self.db), "serve", "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        match = re.match(r"listening on (\S+)", line)
        assert match, f"server did not start: {line!r}"
        self.url = match.group(1)

    def admin(self, *args: str) -> str:
        out = subprocess.run([str(SERVER), "--db", str(self.db), *args], check=True,
                             capture_output=True, text=True, env={**os.environ, "RUST_LOG": "warn"})
        return out.stdout.strip()

    def officer(self, name: str, role: str = "officer") -> str:
        return self.admin("officer", "add", "--name", name, "--number", "1", "--role", role,
                          "--team", self.team)

    def code(self, officer: str) -> str:
        return self.admin("code", "--officer", officer)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def server():
    with tempfile.TemporaryDirectory() as d:
        s = Server(Path(d))
        try:
            yield s
        finally:
            s.stop()


@pytest.fixture
def new_device(pb, tmp_path):
    """Makes encrypted device stores in the test's temporary directory."""
    made = []

    def make(name: str = "phone", key: bytes | None = None):
        key = key if key is not None else os.urandom(32)
        book = pb.Pocketbook.open(pb.OpenConfig(db_path=str(tmp_path / f"{name}.db"), key=key,
                                                device_name=name))
        made.append(book)
        return book, key

    return make
