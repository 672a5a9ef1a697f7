"""Backups: a consistent copy of the database and the uploads, taken while the site serves, with a
manifest of SHA-256 hashes; and restoring one into an empty instance (`flask --app app qzt backup DIR`,
`qzt restore DIR`).

A backup directory holds

    database.sqlite3 or database.pgdump   SQLite's online backup API, or pg_dump --format=custom
    uploads/ab/cd/<key>                     the uploaded files, under their storage keys
    manifest.json                           written last: a directory without one is no backup

Why the copy is consistent. The database is copied first, as one snapshot: SQLite's backup API reads
one snapshot in a single step while writers go on (WAL mode); pg_dump reads the snapshot that the
manifest's row counts are taken in (pg_export_snapshot). The uploads are copied AFTER the database.
An upload's bytes are stored durably (fsynced on disk; on object storage, a PUT the service answered)
before the row that refers to them commits; uploads are never changed or deleted and their keys are
random. So every file the copied database refers to is already stored when the uploads are copied;
each is fetched by the key the copy names (an object store's listing need not be relied on), beside
everything the storage lists. Files uploaded after the database copy are just extra, referred to by
nothing in the copy, and harmless after a restore. A file the copy refers to that the storage does not
hold is named in the manifest (missing_uploads), never silently left out.

The uploads come from, and go back into, whatever storage the site is configured with (a folder or an
S3 bucket, qzt.core.storage), always under the same keys; the backup folder's layout is the same.

Plumbing: no Flask request or app is used here; the CLI hands over the database URL and the storage
(a Site). Messages are in Chinese, for the operator.
"""

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import sqlalchemy as sa
from psycopg.conninfo import make_conninfo
from sqlalchemy.pool import NullPool

from qzt.core import clock
from qzt.core.storage import LocalStorage, Storage, fsync_directory, valid_key
from qzt.extensions import db
from qzt.rules.calendar import to_beijing

FORMAT = 1
MANIFEST = "manifest.json"
UPLOADS = "uploads"
DATABASE_FILE = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ENGINE_NAME = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Rows the migrations write themselves: a freshly migrated database counts as empty.
SEEDED = frozenset({"alembic_version", "site_state"})
CHUNK = 1 << 20
# Where the database names its uploads: every key in this column must be in a backup.
REFERENCES = sa.table("stored_files", sa.column("key"))


class BackupError(Exception):
    """Why a backup or a restore was refused or failed, in one sentence for the operator."""


@dataclass(frozen=True)
class Site:
    """What a backup copies and a restore fills: the database (a SQLAlchemy URL) and the uploads' storage."""

    database_url: str
    storage: Storage

    @property
    def engine(self) -> str:
        return sa.engine.make_url(self.database_url).get_backend_name()

    @property
    def sqlite_path(self) -> Path:
        path = sa.engine.make_url(self.database_url).database
        if not path or path == ":memory:":
            raise BackupError("内存中的SQLite数据库无法备份或恢复")
        return Path(path)


@dataclass(frozen=True)
class Snapshot:
    """What the copied database holds: rows per table, its migration, the upload keys it refers to."""

    tables: dict[str, int]
    revision: str | None
    keys: frozenset[str]


@dataclass
class Restored:
    manifest: dict
    files: int
    # table: (rows in the manifest, rows after the restore) wherever the two differ
    mismatches: dict[str, tuple[int, int | None]] = field(default_factory=dict)


# --- backup -----------------------------------------------------------------------------------------


def backup(site: Site, directory: str | Path) -> dict:
    """Copy the database, then the uploads, into `directory` (new, or empty) and write the manifest;
    returns the manifest. Safe while the site serves."""
    directory = Path(directory)
    _prepare(directory)
    engine = site.engine
    if engine not in DATABASE_FILE:
        raise BackupError(f"不支持的数据库类型：{engine}")
    database_file = directory / DATABASE_FILE[engine]
    if engine == "sqlite":
        snapshot = _copy_sqlite(site.sqlite_path, database_file)
    else:
        snapshot = _dump_postgresql(site.database_url, database_file)
    files = [_entry(directory, database_file)]
    # After the database: see the module's docstring.
    uploads, missing = _copy_uploads(site.storage, snapshot.keys, directory)
    manifest = {
        "format": FORMAT,
        "created_at": to_beijing(clock.now()).isoformat(timespec="seconds"),
        "engine": engine,
        "alembic_revision": snapshot.revision,
        "database": database_file.name,
        "tables": snapshot.tables,
        "files": files + uploads,
        "missing_uploads": missing,
    }
    os.sync()  # everything the manifest lists is on disk before the manifest is
    _write_durably(directory / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    return manifest


def uploads_in(manifest: dict) -> list[dict]:
    return [f for f in manifest["files"] if f["path"].startswith(f"{UPLOADS}/")]


def _prepare(directory: Path) -> None:
    if directory.exists():
        if not directory.is_dir():
            raise BackupError(f"{directory} 不是目录")
        if any(directory.iterdir()):
            raise BackupError(f"备份目录 {directory} 已存在且不为空：请指定一个新的或空的目录")
        return
    directory.mkdir(parents=True, mode=0o700)  # personal data: the operator's eyes only


def _copy_sqlite(source_path: Path, target: Path) -> Snapshot:
    """SQLite's online backup API, the whole database in one step: one consistent snapshot, while the
    site's writers go on (WAL). The row counts are read from the copy."""
    if not source_path.is_file():
        raise BackupError(f"数据库文件不存在：{source_path}")
    source = sqlite3.connect(source_path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # pages=-1: all pages in one step, from one read snapshot
    finally:
        copy.close()
        source.close()
    return _snapshot(f"sqlite:///{target}")


def _dump_postgresql(url: str, target: Path) -> Snapshot:
    """pg_dump --format=custom of the snapshot this transaction exports, so that the row counts in the
    manifest are those of the dump, however busy the site is."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            with connection.begin():
                snapshot = connection.scalar(sa.text("SELECT pg_export_snapshot()"))
                conninfo, env = _libpq(url)
                _run(
                    "pg_dump",
                    "--format=custom",
                    "--no-password",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                    f"--dbname={conninfo}",
                    env=env,
                )
                return _facts(connection)
    finally:
        engine.dispose()


def _copy_uploads(storage: Storage, referenced: frozenset[str], directory: Path) -> tuple[list[dict], list]:
    """Every file the copied database refers to and every other one the storage lists, each under
    uploads/ab/cd/<key>; their manifest entries, and the referred-to keys the storage does not hold."""
    entries, missing = [], []
    for key in sorted(referenced | set(storage.keys())):
        try:
            data = storage.get(key)
        except KeyError:
            if key in referenced:
                missing.append(key)
            continue
        target = directory / UPLOADS / key[:2] / key[2:4] / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)  # os.sync() before the manifest
        path = target.relative_to(directory).as_posix()
        entries.append({"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    return entries, missing


# --- restore ----------------------------------------------------------------------------------------


def read_manifest(directory: str | Path) -> dict:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise BackupError(f"{directory} 不是一份完整的备份：缺少 {MANIFEST}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"备份清单 {path} 无法读取（不是有效的JSON）") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"备份清单 {path} 的格式版本不受支持（应为 {FORMAT}）")
    return manifest


def verify(directory: str | Path) -> dict:
    """Every file the manifest lists is there, with its size and SHA-256; returns the manifest. A
    BackupError names the first file that is missing or changed."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    database = manifest.get("database")
    for entry in manifest.get("files", []):
        name = entry["path"]
        relative = PurePosixPath(name)
        if (
            relative.is_absolute()
            or ".." in relative.parts
            or not (name == database or name.startswith(f"{UPLOADS}/"))
            or (name != database and not valid_key(relative.name))  # restored under that name
        ):
            raise BackupError(f"备份清单中的路径不合法：{name}")
        path = directory / relative
        if not path.is_file():
            raise BackupError(f"备份已损坏：缺少文件 {name}")
        if path.stat().st_size != entry["size"]:
            raise BackupError(f"备份已损坏：文件 {name} 的大小与清单不符（清单{entry['size']}字节）")
        if _sha256(path) != entry["sha256"]:
            raise BackupError(f"备份已损坏：文件 {name} 的SHA-256与清单不符")
    return manifest


def occupied(site: Site) -> list[str]:
    """What the target already holds: rows in the application's tables (those of its models; not
    SQLite's search-index internals, which hold rows from the start), files in its storage. Nothing for
    a new instance or a freshly migrated database."""
    found = []
    mine = set(db.metadata.tables) - SEEDED
    tables = {name: n for name, n in _live_counts(site).items() if n and name in mine}
    if tables:
        listed = "、".join(f"{name} {n}行" for name, n in list(tables.items())[:5])
        more = f"等{len(tables)}张表" if len(tables) > 5 else ""
        found.append(f"数据库中已有数据（{listed}{more}）")
    files = sum(1 for _key in site.storage.keys())
    if files:
        found.append(f"{_place(site.storage)} 中已有{files}个文件")
    return found


def _place(storage: Storage) -> str:
    kind = "上传目录" if isinstance(storage, LocalStorage) else "对象存储"
    return f"{kind} {storage.location}"


def restore(site: Site, directory: str | Path, *, force: bool = False) -> Restored:
    """Check the backup, refuse a target that holds data (unless `force`), restore the database and
    the uploads, then count the rows again. Stop the site (and `qzt worker`) first."""
    directory = Path(directory)
    manifest = verify(directory)
    engine = site.engine
    if manifest["engine"] != engine:
        raise BackupError(
            f"这是{ENGINE_NAME.get(manifest['engine'], manifest['engine'])}数据库的备份，"
            f"当前配置的数据库是{ENGINE_NAME.get(engine, engine)}：不能直接恢复"
        )
    if not force and (found := occupied(site)):
        raise BackupError(
            "目标实例不为空：" + "；".join(found) + "。恢复会覆盖这些数据；确认要覆盖时请加上 --force"
        )
    database_file = directory / manifest["database"]
    if engine == "sqlite":
        _restore_sqlite(database_file, site.sqlite_path)
    else:
        conninfo, env = _libpq(site.database_url)
        _run(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",  # all or nothing
            "--no-password",
            f"--dbname={conninfo}",
            str(database_file),
            env=env,
        )
    files = _restore_uploads(directory, manifest, site.storage)
    counts = _live_counts(site)
    mismatches = {
        name: (n, counts.get(name)) for name, n in manifest["tables"].items() if counts.get(name) != n
    }
    return Restored(manifest=manifest, files=files, mismatches=mismatches)


def _restore_sqlite(source: Path, target: Path) -> None:
    """Copy the file next to its place, fsync it, drop the old database's WAL (it would be replayed
    into the new file), then rename it into place: the target is the old database or the new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f"{target.name}.restoring")
    _copy(source, part, durable=True)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    part.replace(target)
    fsync_directory(target.parent)


def _restore_uploads(directory: Path, manifest: dict, storage: Storage) -> int:
    """Each file back under its key (the file name in the backup), durably: put_as returns once stored."""
    entries = uploads_in(manifest)
    for entry in entries:
        path = PurePosixPath(entry["path"])
        storage.put_as(path.name, (directory / path).read_bytes())
    return len(entries)


# --- shared -----------------------------------------------------------------------------------------


def _live_counts(site: Site) -> dict[str, int]:
    """Row counts of the target's tables; none when its SQLite file does not exist yet."""
    if site.engine == "sqlite" and not site.sqlite_path.exists():
        return {}
    return _snapshot(site.database_url).tables


def _snapshot(url: str) -> Snapshot:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return _facts(connection)
    finally:
        engine.dispose()


def _facts(connection: sa.Connection) -> Snapshot:
    return Snapshot(_counts(connection), _revision(connection), _referenced_keys(connection))


def _counts(connection: sa.Connection) -> dict[str, int]:
    names = sorted(sa.inspect(connection).get_table_names())
    count = sa.select(sa.func.count())
    return {name: connection.scalar(count.select_from(sa.table(name))) for name in names}


def _referenced_keys(connection: sa.Connection) -> frozenset[str]:
    if not sa.inspect(connection).has_table(REFERENCES.name):
        return frozenset()
    return frozenset(connection.scalars(sa.select(REFERENCES.c.key)))


def _revision(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.scalar(sa.text("SELECT version_num FROM alembic_version"))


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The psycopg URL as a libpq connection string for pg_dump/pg_restore (the driver part dropped; a
    Unix-socket ?host=/path kept); the password goes in PGPASSWORD, not on the command line."""
    parsed = sa.engine.make_url(url)
    params = {"host": parsed.host, "port": parsed.port, "user": parsed.username, "dbname": parsed.database}
    for key, value in parsed.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return make_conninfo(**{k: str(v) for k, v in params.items() if v not in (None, "")}), env


def _tool(name: str) -> str:
    """pg_dump/pg_restore: the newest Debian installation (it reads older servers too), else PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: _major(Path(p)))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path:
        return path
    raise BackupError(f"找不到 {name}：请安装PostgreSQL客户端（Debian：apt-get install postgresql-client）")


def _major(path: Path) -> tuple[int, str]:
    version = path.parent.parent.name
    return (int(version) if version.isdigit() else 0, version)


def _run(tool: str, *args: str, env: dict[str, str]) -> None:
    # A PostgreSQL tool with an argument list, no shell: paths and the configured database's own
    # connection string.
    done = subprocess.run([_tool(tool), *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BackupError(f"{tool} 失败（退出码{done.returncode}）：" + " ".join(detail))


def _entry(directory: Path, path: Path) -> dict:
    return {
        "path": path.relative_to(directory).as_posix(),
        "size": path.stat().st_size,
        "sha256": _sha256(path),
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy(source: Path, target: Path, *, durable: bool = False) -> tuple[int, str]:
    """Copy a file (fsynced when `durable`; else os.sync() follows a batch); its size and SHA-256."""
    digest, size = hashlib.sha256(), 0
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
        if durable:
            writer.flush()
            os.fsync(writer.fileno())
    return size, digest.hexdigest()


def _write_durably(path: Path, data: bytes) -> None:
    part = path.with_name(f"{path.name}.part")
    with open(part, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    part.replace(path)
    fsync_directory(path.parent)
