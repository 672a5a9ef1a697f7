"""The working-day calendar with the staff's corrections from the database (Art. 11, 13, 14)."""

from datetime import date

from qzt.core import audit, clock
from qzt.extensions import db
from qzt.models import CalendarCorrection, User
from qzt.rules.calendar import WorkCalendar

NOTE_MAX = 200  # CalendarCorrection.note


def work_calendar() -> WorkCalendar:
    """The statutory calendar from the `holidays` package, overridden by every stored correction."""
    rows = db.session.execute(db.select(CalendarCorrection.day, CalendarCorrection.working))
    return WorkCalendar({day: working for day, working in rows})


def add_correction(day: date, working: bool, note: str, user: User, *, ip: str = "") -> CalendarCorrection:
    """Record that `day` is a working day or a day off, replacing any earlier correction for it; audited."""
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ValueError(f"说明不能超过{NOTE_MAX}字")
    correction = db.session.scalar(db.select(CalendarCorrection).where(CalendarCorrection.day == day))
    before = _snapshot(correction) if correction else None
    if correction is None:
        correction = CalendarCorrection(day=day)
        db.session.add(correction)
    correction.working, correction.note = working, note
    correction.created_by_id, correction.created_at = user.id, clock.now()
    db.session.flush()
    audit.record(
        user, "calendar_correction", correction, before=before, after=_snapshot(correction), note=note, ip=ip
    )
    return correction


def _snapshot(correction: CalendarCorrection) -> dict:
    return {"day": correction.day.isoformat(), "working": correction.working, "note": correction.note}


def corrections() -> list[CalendarCorrection]:
    """Every stored correction, the latest day first."""
    stmt = db.select(CalendarCorrection).order_by(CalendarCorrection.day.desc())
    return list(db.session.scalars(stmt))
