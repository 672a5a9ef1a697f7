"""Listing sanctions (Art. 12, 17): staff hide and show, the authority expels or removes, and the
one-month rule hides and re-lists by itself. Every change is audited (the institution's timeline) and
its account is told why and what to do."""

import secrets
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from qzt.core import audit, clock, notifications
from qzt.extensions import db
from qzt.models import (
    ExpulsionNotice,
    Institution,
    ListingState,
    Qualification,
    Role,
    ServiceAgent,
    ServiceItem,
    User,
)
from qzt.rules import sanctions


class SanctionRefused(ValueError):
    """What stops the action, in Chinese."""


HIDERS = (Role.OPERATOR, Role.AUTHORITY, Role.ADMIN)


def _change(
    institution: Institution, by: User | None, action: str, state: ListingState, note: str, ip: str, **extra
):
    before = {"state": institution.listing_state.value}
    institution.listing_state = state
    audit.record(
        by, action, institution, before=before, after={"state": state.value, **extra}, note=note, ip=ip
    )


def _tell(institution: Institution, kind: str, title: str, body: str) -> None:
    owner = db.session.get(User, institution.owner_id) if institution.owner_id else None
    if owner is not None:
        notifications.notify(owner, kind, title, body, sms_params={"name": institution.name[:20]})


def hide(institution: Institution, by: User, reason: str, ip: str = "") -> None:
    """[隐藏主页] by staff, with a reason; only staff show it again."""
    if by.role not in HIDERS:
        raise SanctionRefused("您的角色不能隐藏机构主页")
    if institution.listing_state != ListingState.LISTED:
        raise SanctionRefused(f"机构当前{institution.listing_state.label}，不能隐藏")
    if not reason.strip():
        raise SanctionRefused("请填写隐藏理由")
    institution.hidden_by_rule = False
    _change(institution, by, "hide", ListingState.HIDDEN, reason.strip(), ip)
    _tell(
        institution,
        "listing_hidden",
        "机构主页已隐藏",
        f"“{institution.name}”的机构主页已被平台隐藏，理由：{reason.strip()}",
    )


def unhide(institution: Institution, by: User, reason: str, ip: str = "") -> None:
    """[恢复显示]."""
    if by.role not in HIDERS:
        raise SanctionRefused("您的角色不能恢复显示")
    if institution.listing_state != ListingState.HIDDEN:
        raise SanctionRefused("机构主页当前未隐藏")
    institution.hidden_by_rule = False
    _change(institution, by, "unhide", ListingState.LISTED, reason.strip(), ip)
    _tell(
        institution,
        "listing_shown",
        "机构主页已恢复显示",
        f"“{institution.name}”的机构主页已恢复在平台显示。",
    )


def expel(
    institution: Institution, by: User, cause: str, reason: str, evidence: str, ip: str = ""
) -> ExpulsionNotice:
    """[清退] by the authority (Art. 12(2), 17), for one of Art. 17's causes; the homepage closes at once
    and the institution gets its 清退通知, a letter anyone can verify by its code."""
    if by.role != Role.AUTHORITY:
        raise SanctionRefused("清退由平台管理单位（质量发展科）决定")
    if institution.listing_state not in (ListingState.LISTED, ListingState.HIDDEN):
        raise SanctionRefused(f"机构当前{institution.listing_state.label}，不能清退")
    if cause not in sanctions.EXPULSION_CAUSES:
        raise SanctionRefused("请选择第十七条规定的清退原因")
    if not reason.strip():
        raise SanctionRefused("请填写清退理由")
    institution.closed_at, institution.closed_cause = clock.now(), cause
    _change(
        institution,
        by,
        "expel",
        ListingState.EXPELLED,
        reason.strip(),
        ip,
        cause=cause,
        evidence=evidence.strip(),
    )
    notice = ExpulsionNotice(
        institution_id=institution.id,
        code=secrets.token_urlsafe(16),
        institution_name=institution.name,
        uscc=institution.uscc,
        cause=cause,
        reason=reason.strip(),
        issued_at=institution.closed_at,
        issued_by_id=by.id,
    )
    db.session.add(notice)
    db.session.flush()
    label = sanctions.EXPULSION_CAUSES[cause]
    _tell(
        institution,
        "expelled",
        "清退通知",
        f"因{label}，“{institution.name}”已被清退出佛山企质通（《管理办法》第十二条、第十七条）。理由：{reason.strip()}。"
        f"请处理完相关遗留问题。清退通知书见 /notices/{notice.code} （登录后可下载PDF）。",
    )
    return notice


def remove(institution: Institution, by: User, reason: str, ip: str = "") -> None:
    """[清理] by the authority (Art. 12(3)), e.g. for an institution that no longer exists."""
    if by.role != Role.AUTHORITY:
        raise SanctionRefused("清理由平台管理单位（质量发展科）决定")
    if institution.listing_state in (ListingState.REMOVED, ListingState.PENDING):
        raise SanctionRefused(f"机构当前{institution.listing_state.label}，不能清理")
    if not reason.strip():
        raise SanctionRefused("请填写清理理由")
    institution.closed_at, institution.closed_cause = clock.now(), None
    _change(institution, by, "remove", ListingState.REMOVED, reason.strip(), ip)


def apply_one_month_rule(today: date) -> tuple[int, int]:
    """`qzt tick` (Art. 17): hide listed institutions past their first month without a service item or an
    agent, and list again those it hid that now have both. Idempotent; returns (hidden, listed again)."""
    has_item = sa.exists().where(ServiceItem.institution_id == Institution.id)
    has_agent = sa.exists().where(ServiceAgent.institution_id == Institution.id)
    lacking = sa.select(Institution).where(
        Institution.listing_state == ListingState.LISTED,
        Institution.opened_on <= today - timedelta(days=28),  # the exact month is checked below
        sa.or_(~has_item, ~has_agent),
    )
    hidden = 0
    for institution in db.session.scalars(lacking):
        missing = sanctions.missing_for_listing(len(institution.services), len(institution.agents))
        if not sanctions.hidden_by_one_month_rule(
            institution.opened_on, today, len(institution.services), len(institution.agents)
        ):
            continue
        institution.hidden_by_rule = True
        what = "、".join(missing)
        _change(
            institution, None, "hide_one_month_rule", ListingState.HIDDEN, f"入驻满1个月仍未配置{what}", ""
        )
        _tell(
            institution,
            "listing_hidden",
            "机构主页已隐藏",
            f"“{institution.name}”入驻满1个月，机构主页仍无{what}，已按《管理办法》第十七条隐藏。"
            f"请在机构工作台补充{what}，补充后主页将自动恢复显示。",
        )
        hidden += 1
    again = 0
    waiting = sa.select(Institution).where(
        Institution.listing_state == ListingState.HIDDEN, Institution.hidden_by_rule
    )
    for institution in db.session.scalars(waiting):
        if sanctions.missing_for_listing(len(institution.services), len(institution.agents)):
            continue
        institution.hidden_by_rule = False
        _change(institution, None, "show_one_month_rule", ListingState.LISTED, "已补充服务项目和客服人员", "")
        _tell(
            institution,
            "listing_shown",
            "机构主页已恢复显示",
            f"“{institution.name}”已符合第十七条要求，主页已恢复显示。",
        )
        again += 1
    db.session.flush()
    return hidden, again


def institutions(state: str | None, q: str) -> list[Institution]:
    stmt = sa.select(Institution).where(Institution.listing_state != ListingState.PENDING)
    if state:
        stmt = stmt.where(Institution.listing_state == ListingState(state))
    if q:
        stmt = stmt.where(Institution.name.contains(q.replace("%", "").replace("_", "")))
    # The list flags institutions whose every certificate lapsed: load them with their certificates.
    stmt = stmt.options(selectinload(Institution.qualifications))
    return list(db.session.scalars(stmt.order_by(Institution.id).limit(200)))


EXPIRY_NOTICES = (30, 7)  # days before a certificate's last day on which its institution is told, once each
EXPIRED_LOOKBACK = 7  # days after expiry during which staff are still told (a tick that did not run)


def remind_certificates(today: date) -> int:
    """`qzt tick` (Art. 5): tell the institution once 30 days and once 7 days before a certificate expires,
    and the operators once when it has expired; returns how many notices were queued."""
    stmt = (
        sa.select(Qualification)
        .join(Institution)
        .where(
            Institution.listing_state == ListingState.LISTED,
            Qualification.valid_until >= today - timedelta(days=EXPIRED_LOOKBACK),
            Qualification.valid_until <= today + timedelta(days=max(EXPIRY_NOTICES)),
        )
    )
    operators = None
    queued = 0
    for cert in db.session.scalars(stmt):
        institution, left = cert.institution, (cert.valid_until - today).days
        if left < 0:
            operators = operators if operators is not None else notifications.staff(Role.OPERATOR)
            queued += notifications.notify_once(
                operators,
                "certificate_expired",
                "入驻机构资质证书已过期",
                f"“{institution.name}”的{cert.name}已于{cert.valid_until:%Y年%m月%d日}过期（第五条）。",
                key=f"certificate-expired:{cert.id}",
            )
            continue
        for days in sorted(EXPIRY_NOTICES):  # the nearest mark first
            if left <= days:
                queued += notifications.notify_once(
                    [db.session.get(User, institution.owner_id)] if institution.owner_id else [],
                    "certificate_expiring",
                    "资质证书即将过期",
                    f"贵机构的{cert.name}将于{cert.valid_until:%Y年%m月%d日}到期，请及时换证并在机构主页提交新证书。",
                    sms_params={"date": cert.valid_until.isoformat()},
                    key=f"certificate-expiring-{days}:{cert.id}",
                )
                break  # only the nearest mark: 7 days left does not also send the 30-day notice
    return queued


def all_certificates_expired(institution: Institution, today: date) -> bool:
    """Flagged to staff: it has certificates and every one has lapsed."""
    certs = institution.qualifications
    return bool(certs) and all(q.is_expired(today) for q in certs)
