"""Art. 13: a listed institution completes its homepage within 5 working days of admission.

"线上平台入驻机构应严格遵守“承诺书”，应在正式入驻之日起5个工作日内在平台上按照平台相关要求及时完善机构
信息、服务项目等". The article leaves "complete" to the platform's requirements; ours, each checkable
from the homepage alone:
- an introduction of at least INTRODUCTION_MIN characters (Annex 2 item 3: 简介按要求完善);
- the address and a contact telephone;
- 2 to 3 featured service items (Art. 7), each with a description (Annex 2 item 5: 服务项目及内容);
- at least one customer-service agent (Art. 6);
- at least one qualification certificate in force (Art. 5; Annex 2 item 4), unless every featured item is
  in a category without a statutory qualification (Art. 8: 知识产权, 质量管理, 品牌培育).
The 5 working days count from the service-opening date (正式入驻之日) and not that day itself; a reminder
goes out on the 3rd working day.
"""

from dataclasses import dataclass
from datetime import date

from qzt.rules import eligibility
from qzt.rules.calendar import WorkCalendar

INTRODUCTION_MIN = 20
DEADLINE_WORKING_DAYS = 5
REMINDER_WORKING_DAYS = 3


@dataclass(frozen=True)
class ServiceLine:
    category: str
    featured: bool
    content: str


def homepage_problems(
    *,
    introduction: str,
    address: str | None,
    phone: str | None,
    services: list[ServiceLine],
    agents: int,
    certificates_valid_until: list[date | None],
    today: date,
) -> list[str]:
    """What keeps the homepage from being complete, in Chinese; empty when it is."""
    problems = []
    if len((introduction or "").strip()) < INTRODUCTION_MIN:
        problems.append(f"机构简介至少{INTRODUCTION_MIN}个字")
    if not (address or "").strip():
        problems.append("请填写详细地址")
    if not (phone or "").strip():
        problems.append("请填写联系电话")
    featured = [s for s in services if s.featured]
    if not eligibility.FEATURED_MIN <= len(featured) <= eligibility.FEATURED_MAX:
        problems.append(
            f"优势服务项目应为{eligibility.FEATURED_MIN}至{eligibility.FEATURED_MAX}项（当前{len(featured)}项）"
        )
    if any(not s.content.strip() for s in featured):
        problems.append("请为每个优势服务项目填写服务内容")
    if agents < eligibility.AGENTS_MIN:
        problems.append(f"请配备至少{eligibility.AGENTS_MIN}名客服人员（第六条）")
    if certificate_required([s.category for s in featured]) and not in_force(certificates_valid_until, today):
        problems.append("请上传至少一份在有效期内的资质证书（第五条）")
    return problems


def certificate_required(featured_categories: list[str]) -> bool:
    """Art. 5 and 8: a certificate is needed unless every featured item is in a category without one."""
    return not featured_categories or any(
        c not in eligibility.CASE_EVIDENCE_CATEGORIES for c in featured_categories
    )


def in_force(certificates_valid_until: list[date | None], day: date) -> list[date | None]:
    """The validity dates of the certificates in force on `day` (None: no expiry)."""
    return [d for d in certificates_valid_until if d is None or d >= day]


def deadline(opened_on: date, calendar: WorkCalendar) -> date:
    """The last day to complete the homepage: 5 working days after the service-opening date."""
    return calendar.add_working_days(opened_on, DEADLINE_WORKING_DAYS)


def reminder_day(opened_on: date, calendar: WorkCalendar) -> date:
    return calendar.add_working_days(opened_on, REMINDER_WORKING_DAYS)
