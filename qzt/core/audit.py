"""Writing the audit trail: one call per staff action or state change, in the same transaction."""

from sqlalchemy.orm import selectinload

from qzt.extensions import db
from qzt.models import AuditRecord, User


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
    """Append an audit record for `action` on `obj` (any model with an id)."""
    entry = AuditRecord(
        actor_id=actor.id if actor is not None and actor.is_authenticated else None,
        ip=(ip or "")[:45],
        action=action,
        object_type=type(obj).__tablename__,
        object_id=obj.id,
        before=before,
        after=after,
        note=note,
    )
    db.session.add(entry)
    return entry


def history(obj) -> list[AuditRecord]:
    stmt = (
        db.select(AuditRecord)
        .where(AuditRecord.object_type == type(obj).__tablename__, AuditRecord.object_id == obj.id)
        .options(selectinload(AuditRecord.actor))
        .order_by(AuditRecord.id)
    )
    return list(db.session.scalars(stmt))
