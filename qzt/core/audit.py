"""Writing the audit trail: one call per staff action or state change, in the same transaction.

The trail is a hash chain (qzt.rules.audit). A record is linked when it is flushed, not when it is
made: ``chain_new_records`` (a before_flush listener that qzt.core.database installs) takes the chain's
lock, reads the last record, and gives each new record, in the order they were added, its id, its
prev_hash and its hash. The id is assigned here, under the lock, so that the hash can cover it and
chain order is id order; no row is ever updated afterwards (the table is append-only).

The lock is what keeps two transactions that append at once from both chaining onto the same record:

* PostgreSQL: ``pg_advisory_xact_lock(CHAIN_LOCK)`` before the read. It is held until the transaction
  ends, so the next appender reads the last record only after this one has committed (read committed:
  each statement sees what was committed before it). Ids come from the table's sequence, drawn under
  the lock, so they rise in chain order (a rolled-back append leaves a gap, which the chain tolerates).
* SQLite: one writer per database, but pysqlite starts its transaction only at the first INSERT, so a
  read before it could see a last record another connection is about to follow. Unless this
  transaction is already writing (it then holds the write lock), ``BEGIN IMMEDIATE`` takes the write
  lock first (waiting busy_timeout); the read and the insert then happen under it. Ids are last + 1.

Should the lock ever fail, the unique index on prev_hash refuses the second record of a fork.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from flask import has_request_context
from flask_login import current_user
from sqlalchemy.orm import Session, selectinload

from qzt.core import clock
from qzt.core.http import client_ip
from qzt.core.requestlog import request_id
from qzt.extensions import db
from qzt.models import AuditRecord, StoredFile, User
from qzt.rules import audit as rules

CHAIN_LOCK = 0x515A_5441  # "QZTA": PostgreSQL advisory lock key serializing appends to the chain


def record(
    actor: User | None,
    action: str,
    obj,
    *,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
    ip: str = "",
) -> AuditRecord:
    """Append an audit record for `action` on `obj` (any model with an id).

    before/after never hold a secret (a password or its hash, an SMS code, a token): a key naming one is
    a programming error (ValueError), caught by the tests before it reaches the trail."""
    for name, value in (("before", before), ("after", after)):
        if found := rules.secrets_in(value):
            raise ValueError(f"audit {action}: {name} would hold a secret ({', '.join(found)})")
    if rules.PASSWORD_HASH.match(note or ""):
        raise ValueError(f"audit {action}: the note would hold a password hash")
    entry = AuditRecord(
        actor_id=actor.id if actor is not None and actor.is_authenticated else None,
        ip=(ip or "")[:45],
        action=action,
        object_type=type(obj).__tablename__,
        object_id=obj.id,
        before=before,
        after=after,
        note=note,
        request_id=request_id(),
    )
    db.session.add(entry)
    return entry


def _request_ip() -> str:
    return client_ip() if has_request_context() else ""


def uploaded(owner: User, stored: StoredFile) -> StoredFile:
    """Record an accepted upload (what, how big, its SHA-256: not its content); returns `stored`."""
    after = {
        "purpose": stored.purpose,
        "filename": stored.filename,
        "size": stored.size,
        "sha256": stored.sha256,
    }
    record(owner, "upload", stored, after=after, ip=_request_ip())
    return stored


def downloaded(obj, what: str) -> None:
    """Record that the current user is being handed `obj` (a stored file, a PDF made of a record) and
    commit it at once: a download is a GET that changes nothing else."""
    record(current_user, "download", obj, note=what, ip=_request_ip())
    db.session.commit()


def history(obj) -> list[AuditRecord]:
    stmt = (
        db.select(AuditRecord)
        .where(AuditRecord.object_type == type(obj).__tablename__, AuditRecord.object_id == obj.id)
        .options(selectinload(AuditRecord.actor))
        .order_by(AuditRecord.id)
    )
    return list(db.session.scalars(stmt))


# --- the hash chain ---


def _fields(entry: AuditRecord) -> dict:
    return {name: getattr(entry, name) for name in (*rules.FIELDS, *rules.OPTIONAL_FIELDS)}


def _take_chain_lock(connection: sa.Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    elif connection.dialect.name == "sqlite" and not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _ids(connection: sa.Connection, last_id: int) -> Iterator[int]:
    if connection.dialect.name == "postgresql":
        draw = sa.text("SELECT nextval(pg_get_serial_sequence('audit_records', 'id'))")
        while True:
            yield connection.execute(draw).scalar_one()
    else:
        while True:
            last_id += 1
            yield last_id


def chain_new_records(session: Session, _flush_context, _instances) -> None:
    """before_flush: link the new audit records onto the chain, under the chain's lock (see above)."""
    new = [obj for obj in session.new if isinstance(obj, AuditRecord)]
    if not new:
        return
    new.sort(key=lambda entry: sa.inspect(entry).insert_order)
    connection = session.connection(bind_arguments={"mapper": sa.inspect(AuditRecord)})
    _take_chain_lock(connection)
    table = AuditRecord.__table__
    last = connection.execute(
        sa.select(table.c.id, table.c.hash).order_by(table.c.id.desc()).limit(1)
    ).first()
    prev_hash = last.hash if last else rules.GENESIS
    ids = _ids(connection, last.id if last else 0)
    for entry in new:
        entry.id = next(ids)
        entry.at = entry.at or clock.now()
        entry.ip = entry.ip or ""
        entry.note = entry.note or ""
        entry.before, entry.after = rules.as_stored(entry.before), rules.as_stored(entry.after)
        entry.prev_hash = prev_hash
        entry.hash = prev_hash = rules.record_hash(_fields(entry), prev_hash)


@dataclass(frozen=True)
class Verdict:
    checked: int  # records that passed, in id order
    broken_id: int | None = None  # the first record that did not
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def verify(batch: int = 2000) -> Verdict:
    """Walk the whole chain in id order, `batch` records at a time (memory stays flat at any size), and
    stop at the first broken link: a record whose content no longer matches its hash, or whose prev_hash
    is not the hash of the record before it (one in between was deleted, or that one was rewritten)."""
    names = (*rules.FIELDS, *rules.OPTIONAL_FIELDS, "prev_hash", "hash")
    columns = [getattr(AuditRecord, name) for name in names]
    expected, prev_id, checked = rules.GENESIS, None, 0
    while True:
        stmt = sa.select(*columns).order_by(AuditRecord.id).limit(batch)
        if prev_id is not None:
            stmt = stmt.where(AuditRecord.id > prev_id)
        rows = db.session.execute(stmt).all()
        for row in rows:
            if rules.record_hash(row._mapping, row.prev_hash) != row.hash:
                return Verdict(checked, row.id, "内容被改动：记录内容与其哈希不符")
            if row.prev_hash != expected:
                return Verdict(checked, row.id, _link_problem(prev_id, row.id))
            expected, prev_id, checked = row.hash, row.id, checked + 1
        if len(rows) < batch:
            return Verdict(checked)


def _link_problem(prev_id: int | None, row_id: int) -> str:
    if prev_id is None:
        return "记录缺失：第一条记录之前的记录被删除（它不是哈希链的起点）"
    if row_id > prev_id + 1:
        return f"记录缺失：与前一条记录（id {prev_id}）不衔接，其间的记录被删除"
    return f"链接断开：前一哈希与前一条记录（id {prev_id}）的哈希不符，那条记录被改写或替换"
