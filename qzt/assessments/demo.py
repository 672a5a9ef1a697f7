"""Demo assessments: every ended cycle opened; some confirmed, some waiting for the authority, the rest
with the operator, so that each list and page shows a platform in use."""

from datetime import date

from qzt.assessments import services
from qzt.models import User

CONFIRMED, SUBMITTED = 12, 5


def create_history(today: date, operator: User | None, authority: User | None) -> int:
    opened = services.open_due(today)
    if operator is None or authority is None:
        return len(opened)
    for n, assessment in enumerate(opened[: CONFIRMED + SUBMITTED]):
        decisions = [
            services.Decision(i.number, bool(i.computed) if not i.judgement else False, "")
            for i in assessment.items
        ]
        services.review(assessment, operator, decisions, submit=True)
        if n < CONFIRMED:
            services.confirm(assessment, authority)
    return len(opened)
