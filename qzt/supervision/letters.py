"""The 清退通知 letter (Art. 12, 17) as a PDF through the one PDF path, with a verification QR code."""

import sqlalchemy as sa

from qzt.core.http import external_url
from qzt.documents import qr_data_uri, render_pdf
from qzt.extensions import db
from qzt.models import ExpulsionNotice, User
from qzt.rules.calendar import to_beijing
from qzt.rules.sanctions import EXPULSION_CAUSES

TEMPLATE = "pdf/expulsion.html"


def by_code(code: str) -> ExpulsionNotice | None:
    if len(code) > 32:
        return None
    return db.session.scalar(sa.select(ExpulsionNotice).where(ExpulsionNotice.code == code))


def can_download(user: User, notice: ExpulsionNotice) -> bool:
    """Staff, and the expelled institution's own account."""
    if not user.is_authenticated:
        return False
    return user.is_staff or notice.institution.owner_id == user.id


def context(notice: ExpulsionNotice) -> dict:
    verify_url = external_url("supervision.notice", notice_code=notice.code)
    return {
        "notice": notice,
        "cause": EXPULSION_CAUSES.get(notice.cause, notice.cause),
        "issued_at": to_beijing(notice.issued_at),
        "verify_url": verify_url,
        "qr": qr_data_uri(verify_url),
    }


def notice_pdf(notice: ExpulsionNotice) -> bytes:
    return render_pdf(TEMPLATE, **context(notice))


def of_institution(institution) -> list[ExpulsionNotice]:
    stmt = sa.select(ExpulsionNotice).where(ExpulsionNotice.institution_id == institution.id)
    return list(db.session.scalars(stmt.order_by(ExpulsionNotice.id)))
