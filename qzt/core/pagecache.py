"""Whole-page caching of the public directory for anonymous visitors.

Most traffic is anonymous browsing from the WeChat account, and the directory changes rarely. Every
flush that touches what the directory shows bumps a version number in the same transaction; a cached
page is served only while the version it was rendered at is still current, so a change shows at once.
Logged-in users, flashed messages and anything that sets a cookie bypass the cache.

On PostgreSQL the version is not asked per request: each bump also sends a NOTIFY (delivered when its
transaction commits), and a thread of each process LISTENs on a connection of its own and keeps the
version in memory (_Watcher). A process's own commits are read back at once; another process's arrive
within milliseconds. Until the thread has read the version, or while it has lost its connection, requests
ask the database as before. SQLite reads it again only when `PRAGMA data_version` says someone has
committed since (_SqliteReader).
"""

import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from functools import wraps
from threading import Lock

import sqlalchemy as sa
from flask import Response, current_app, g, request, session
from flask_login import current_user

from qzt.core.database import listen
from qzt.core.http import is_fragment
from qzt.extensions import db
from qzt.models import (
    Institution,
    Qualification,
    Rating,
    SearchDocument,
    ServiceAgent,
    ServiceItem,
    SiteState,
)

DIRECTORY = "directory"
MAX_PAGES = 1000
SHOWN = (Institution, ServiceItem, Qualification, ServiceAgent, SearchDocument, Rating)

_lock = Lock()


def _pages() -> OrderedDict:
    """This app's cache (one per app: each app has its own database)."""
    return current_app.extensions.setdefault("qzt_page_cache", OrderedDict())


CHANNEL = "qzt_directory"
_BUMPED = "qzt_directory_bumped"


def bump(connection: sa.Connection | None = None) -> None:
    """Mark the directory changed (for writes that bypass the ORM, such as bulk inserts)."""
    stmt = sa.update(SiteState).where(SiteState.key == DIRECTORY).values(version=SiteState.version + 1)
    target = connection or db.session
    target.execute(stmt)
    if db.engine.dialect.name == "postgresql":
        target.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
        db.session.info[_BUMPED] = True


def _after_flush(session, _context) -> None:
    if any(isinstance(obj, SHOWN) for obj in (*session.new, *session.dirty, *session.deleted)):
        bump(session.connection())


def _after_commit(session) -> None:
    """This process sees its own change at once, without waiting for the announcement."""
    if session.info.pop(_BUMPED, False):
        watcher = _WATCHERS.get(str(session.get_bind().url))
        if watcher is not None:
            watcher.forget()


def _after_rollback(session) -> None:
    session.info.pop(_BUMPED, None)


def init_app(app) -> None:
    listen(sa.orm.Session, "after_flush", _after_flush)
    listen(sa.orm.Session, "after_commit", _after_commit)
    listen(sa.orm.Session, "after_rollback", _after_rollback)


def version() -> int | None:
    """The directory's version; None (nothing is cached) if the counter row is missing."""
    if db.engine.dialect.name == "sqlite":
        reader = _sqlite_reader()
        if reader is not None:
            try:
                return reader.version()
            except sqlite3.Error:  # e.g. locked for longer than its timeout: the session asks
                pass
    watcher = _watcher() if db.engine.dialect.name == "postgresql" else None
    if watcher is not None and watcher.value is not None:
        return watcher.value
    current = _read(db.session)
    if watcher is not None:
        watcher.learn(current)
    return current


def _read(connection) -> int | None:
    return connection.scalar(sa.select(SiteState.version).where(SiteState.key == DIRECTORY))


class _SqliteReader:
    """SQLite: the version read again only when someone has committed since (`PRAGMA data_version`
    changes when any other connection, in any process, commits), on a connection of this process's own
    that never writes: a few microseconds per request where a read through the session's pool cost
    some 0.4 ms, half of a cached page."""

    def __init__(self, path: str):
        self.pid = os.getpid()
        self.inode = os.stat(path).st_ino
        self._connection = sqlite3.connect(path, timeout=1, check_same_thread=False, isolation_level=None)
        self._lock = Lock()
        self._seen: int | None = None  # the data_version the value was read at
        self._value: int | None = None

    def version(self) -> int | None:
        with self._lock:
            seen = self._connection.execute("PRAGMA data_version").fetchone()[0]
            if seen != self._seen or self._value is None:
                row = self._connection.execute(
                    "SELECT version FROM site_state WHERE key = ?", (DIRECTORY,)
                ).fetchone()
                # Read after data_version: a commit in between is read now, or again next time.
                self._seen, self._value = seen, row[0] if row else None
            return self._value

    def close(self) -> None:
        self._connection.close()


_READERS: OrderedDict[str, _SqliteReader] = OrderedDict()
_readers_lock = Lock()
_READERS_KEPT = 4  # the tests open many databases, one after another
_INHERITED: list[_SqliteReader] = []


def _sqlite_reader() -> _SqliteReader | None:
    """This process's reader of the app's SQLite file (None for an in-memory database)."""
    path = db.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    with _readers_lock:
        reader = _READERS.get(path)
        try:
            inode = os.stat(path).st_ino
        except OSError:  # no database yet
            return None
        if reader is not None and reader.pid != os.getpid():
            # Opened before gunicorn forked: closing it here would release this process's locks on
            # the file (POSIX locks are per process). Left alone.
            _INHERITED.append(reader)
            reader = None
        elif reader is not None and reader.inode != inode:  # the file was replaced (a restore)
            reader.close()
            reader = None
        if reader is None:
            reader = _READERS[path] = _SqliteReader(path)
            while len(_READERS) > _READERS_KEPT:
                _READERS.popitem(last=False)[1].close()
        _READERS.move_to_end(path)
        return reader


class _Watcher:
    """The directory's version as PostgreSQL announces it, kept by a daemon thread (one per database
    and process) on a connection of its own, outside the pool."""

    def __init__(self, url: sa.URL):
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.value: int | None = None
        self.pid = os.getpid()
        self._lock = Lock()
        self._generation = 0  # moved on by forget(): a read begun before it is not kept
        self.listening = False
        threading.Thread(target=self._run, name="qzt-directory-watch", daemon=True).start()

    def learn(self, value: int | None) -> None:
        """A version read by a request: never step back (a slower read may finish later)."""
        with self._lock:
            if value is not None and (self.value is None or value > self.value):
                self.value = value

    def forget(self) -> None:
        with self._lock:
            self._generation += 1
            self.value = None

    def _store(self, value: int | None, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self.value = value

    def _run(self) -> None:
        told = False
        while True:
            try:
                self._listen()
            except Exception as error:  # a lost connection: ask per request meanwhile, then listen again
                self.forget()
                if self.listening or not told:  # once per outage
                    _log.warning("directory version: not listening (%s); requests ask the database", error)
                self.listening, told = False, True
                time.sleep(RECONNECT_SECONDS)

    def _listen(self) -> None:
        with self.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            driver = connection.connection.driver_connection
            connection.exec_driver_sql(f"LISTEN {CHANNEL}")
            self.listening = True
            while True:  # LISTENing before reading: no change falls between
                generation = self._generation
                self._store(_read(connection), generation)
                for _notify in driver.notifies(timeout=QUIET_SECONDS, stop_after=1):
                    pass


_WATCHERS: dict[str, _Watcher] = {}
_watchers_lock = Lock()
_log = logging.getLogger(__name__)
# Without an announcement the version is read again after this long anyway; a lost connection is
# retried after RECONNECT_SECONDS.
QUIET_SECONDS = 30.0
RECONNECT_SECONDS = 1.0


def _watcher() -> _Watcher | None:
    """This process's watcher of the app's database, started on first use (after gunicorn forks)."""
    config = current_app.config
    listen_url = config.get("QZT_DIRECTORY_LISTEN_URL")
    if not (config["PAGE_CACHE"] or config["FRAGMENT_CACHE"]) or listen_url == "off":
        return None
    key = str(db.engine.url)
    watcher = _WATCHERS.get(key)
    if watcher is None or watcher.pid != os.getpid():
        with _watchers_lock:
            watcher = _WATCHERS.get(key)
            if watcher is None or watcher.pid != os.getpid():
                url = sa.make_url(listen_url) if listen_url else db.engine.url
                watcher = _WATCHERS[key] = _Watcher(url)
    return watcher


def clear() -> None:
    with _lock:
        _pages().clear()


def cached_for_anonymous(view):
    """Serve the stored page when the visitor is anonymous and the directory has not changed."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.is_authenticated or session.get("_flashes") or not current_app.config["PAGE_CACHE"]:
            return view(*args, **kwargs)
        key = (request.full_path, is_fragment())  # a history restore or boosted visit gets the full page
        current = version()
        if current is None:
            return view(*args, **kwargs)
        g.page_cacheable = True  # base.html leaves out the per-session CSRF token
        pages = _pages()
        with _lock:
            hit = pages.get(key)
        if hit and hit[0] == current:
            return Response(hit[1], status=200, mimetype="text/html", headers={"Vary": "Cookie, HX-Request"})
        response = current_app.make_response(view(*args, **kwargs))
        # A page drawn differently for some browsers (templating.in_wechat) would be served to all.
        varies = g.get("varies_by_browser")
        if response.status_code == 200 and "Set-Cookie" not in response.headers and not varies:
            with _lock:
                pages[key] = (current, response.get_data())
                pages.move_to_end(key)
                while len(pages) > MAX_PAGES:
                    pages.popitem(last=False)
        response.vary.update(("Cookie", "HX-Request"))
        return response

    return wrapped
