"""Hiding, expulsion and removal (Art. 12, 17).

Art. 17: "机构在入驻平台1个月内，其机构主页无任何服务项目或未配备客服人员的，将隐藏其机构主页与
服务方案，待整改结束后，符合条件的才能再次接入机构主面". Our reading: one calendar month after the
service-opening date (opened 31 January: the last day of February), a listed institution with no
service item or no agent is hidden; it is listed again as soon as it has both. That needs no operator:
the condition is the whole test, and the system checks it (at every `qzt tick`); staff see both steps
on its timeline. A listing that staff hid by hand comes back only by staff.

Expulsion (清退) is the authority's, for one of Art. 17's causes; removal (清理, Art. 12(3)) too.
"""

from calendar import monthrange
from datetime import date

# Art. 17's causes of expulsion, in its words.
EXPULSION_CAUSES = {
    "failed_assessment": "考核不合格",
    "serious_violation": "行政处罚等严重违法",
    "logo_misuse": "擅自使用平台标志",
    "complaint_serious": "投诉查实情节较重",
    "violation_confirmed": "违法违规被查实",
}


def one_month_after(opened_on: date) -> date:
    """The same day a month later; the month's last day where it has no such day (31 Jan → 28/29 Feb)."""
    year, month = (opened_on.year + 1, 1) if opened_on.month == 12 else (opened_on.year, opened_on.month + 1)
    return date(year, month, min(opened_on.day, monthrange(year, month)[1]))


def missing_for_listing(service_items: int, agents: int) -> list[str]:
    """What Art. 17 requires of a listed homepage after its first month; empty when it may show."""
    missing = []
    if service_items < 1:
        missing.append("服务项目")
    if agents < 1:
        missing.append("客服人员")
    return missing


def hidden_by_one_month_rule(opened_on: date | None, today: date, service_items: int, agents: int) -> bool:
    """Art. 17: past its first month, and still without a service item or an agent."""
    return (
        opened_on is not None
        and today >= one_month_after(opened_on)
        and bool(missing_for_listing(service_items, agents))
    )
