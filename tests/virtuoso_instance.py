"""A private Virtuoso 7 for the tests: its own database folder, its own loopback ports, stopped after use.

The Debian package's `/etc/virtuoso-opensource-7/virtuoso.ini` is copied into a temporary folder with
the database files moved there and both `ServerPort` lines (SQL in `[Parameters]`, HTTP in
`[HTTPServer]`) set to free ports on 127.0.0.1, so the instance never touches the system database or
listens beyond loopback, and two test runs never meet. The server runs in the foreground (its process
is ours, so it can be killed if `shutdown()` does not stop it) and every wait is bounded.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

SYSTEM_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
#: Give the SPARQL endpoint's user (`SPARQL`, and `nobody` for the graphs) the right to update, so that
#: the Graph Store endpoint /sparql-graph-crud takes a PUT without a password.
GRANT_UPDATES = 'grant SPARQL_UPDATE to "SPARQL"; DB.DBA.RDF_DEFAULT_USER_PERMS_SET (\'nobody\', 7);'


def server_command() -> str | None:
    return shutil.which("virtuoso-t")


def isql_command() -> str | None:
    return shutil.which("isql-vt") or shutil.which("isql")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def private_ini(text: str, folder: Path, sql_port: int, http_port: int) -> str:
    """The system configuration with its files in `folder` and its ports on loopback."""
    out, section = [], ""
    for line in text.splitlines():
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            section = header.group(1)
        key, sep, value = line.partition("=")
        key = key.strip()
        if sep and not line.lstrip().startswith(";"):
            if key == "ServerPort" and section == "Parameters":
                line = f"ServerPort = 127.0.0.1:{sql_port}"
            elif key == "ServerPort" and section == "HTTPServer":
                line = f"ServerPort = 127.0.0.1:{http_port}"
            elif key in ("DatabaseFile", "ErrorLogFile", "LockFile", "TransactionFile", "xa_persistent_file"):
                line = f"{key} = {folder / Path(value.split(';')[0].strip()).name}"
        out.append(line)
    return "\n".join(out) + "\n"


@dataclass
class Virtuoso:
    folder: Path
    sql_port: int
    http_port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """The SPARQL endpoint, the URL a user gives `--endpoint`."""
        return f"http://127.0.0.1:{self.http_port}/sparql"

    def isql(self, statements: str, *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = isql_command()
        assert command is not None, "isql-vt is not installed"
        return subprocess.run([command, str(self.sql_port), "dba", "dba", f"exec={statements}"],
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def log(self) -> str:
        path = self.folder / "virtuoso.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"

    def stop(self, *, timeout: float = 30) -> None:
        """`shutdown()` through isql; kill the process if it is still there after `timeout` seconds."""
        if self.proc.poll() is None:
            try:
                self.isql("shutdown();", timeout=timeout)
            except (subprocess.TimeoutExpired, OSError):
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start(folder: Path, *, timeout: float = 120) -> Virtuoso:
    """A new Virtuoso on free loopback ports with its database in `folder`, answering SPARQL."""
    command = server_command()
    assert command is not None, "virtuoso-t is not installed"
    folder.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    while http_port == sql_port:
        http_port = free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(private_ini(SYSTEM_INI.read_text(), folder, sql_port, http_port))
    out = (folder / "virtuoso-t.out").open("wb")
    proc = subprocess.Popen([command, "+configfile", str(ini), "+foreground"], cwd=folder, stdout=out,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env={**os.environ})
    out.close()
    server = Virtuoso(folder, sql_port, http_port, proc)
    try:
        deadline = time.monotonic() + timeout
        ask = f"{server.url}?" + urllib.parse.urlencode({"query": "ASK {}"})
        while True:
            try:
                with urllib.request.urlopen(ask, timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited with {proc.returncode}: {server.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"virtuoso-t did not answer within {timeout:g} s: {server.log()}")
            time.sleep(0.25)
        granted = server.isql(GRANT_UPDATES)
        if granted.returncode != 0 or "Error" in granted.stdout:
            raise RuntimeError(f"could not grant SPARQL updates: {granted.stdout} {granted.stderr}")
    except BaseException:
        server.stop(timeout=10)
        raise
    return server
