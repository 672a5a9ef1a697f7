"""Demo assessments: every ended cycle opened; some confirmed, some waiting for the authority, the rest
with the operator, so that each list and page shows a platform in use. Like the rest of the demo history,
it queues no notice."""

from datetime import date

import sqlalchemy as sa

from qzt.assessments import services
from qzt.extensions import db
from qzt.models import Notification, User

CONFIRMED, SUBMITTED = 12, 5


def create_history(today: date, operator: User | None, authority: User | None) -> int:
    last_notice = db.session.scalar(sa.select(sa.func.max(Notification.id))) or 0
    opened = services.open_due(today)
    if operator is not None and authority is not None:
        for n, assessment in enumerate(opened[: CONFIRMED + SUBMITTED]):
            # The operator agrees with the records on every item (item 5's judgement included).
            decisions = [services.Decision(i.number, bool(i.computed), "") for i in assessment.items]
            services.review(assessment, operator, decisions, submit=True)
            if n < CONFIRMED:
                services.confirm(assessment, authority)
    db.session.execute(sa.delete(Notification).where(Notification.id > last_notice))
    return len(opened)
