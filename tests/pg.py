"""A throw-away PostgreSQL server for the test session, run as an unprivileged user.

initdb refuses to run as root, and CI runs as root: then the server runs as Debian's `postgres`
account, in a directory handed to it. It listens only on a Unix socket inside that directory.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL is not installed: run `make test`, which installs Debian's postgresql")


@dataclass
class Server:
    base: Path
    bindir: Path
    run_as: list[str]
    port: int = 54329

    @property
    def data(self) -> Path:
        return self.base / "data"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.run_as, *args], check=True, capture_output=True, cwd=self.base)

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        options = f"-F -p {self.port} -k {self.base} -c listen_addresses=''"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.base / "log"),
            "start",
        )

    def create_database(self, name: str) -> str:
        self._run(
            str(self.bindir / "createdb"), "-h", str(self.base), "-p", str(self.port), "-U", "postgres", name
        )
        return f"postgresql+psycopg://postgres@/{name}?host={self.base}&port={self.port}"

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            cwd=self.base,
        )
        shutil.rmtree(self.base, ignore_errors=True)


def start_server() -> Server:
    base = Path(tempfile.mkdtemp(prefix="qzt-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(base, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    server = Server(base=base, bindir=_bindir(), run_as=run_as, port=54329 + os.getpid() % 500)
    server.start()
    return server
