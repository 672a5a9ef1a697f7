"""Customer-service agents (客服人员, Art. 6 and 14): the institution's account adds one or two, each with
a login of its own; an agent sets its password with a code sent by SMS and answers the institution's
consultations. Removing an agent takes it off the homepage and switches its login off; its replies stay."""

import secrets

from qzt.auth.services import create_user, issue_code
from qzt.consultations.services import ConsultRefused
from qzt.core import audit, notifications
from qzt.extensions import db
from qzt.models import Institution, Role, ServiceAgent, User
from qzt.rules import eligibility, phone

ACTIVATE = "activate"


def add(institution: Institution, by: User, *, name: str, mobile: str, hours: str, ip: str = "") -> str:
    """[添加客服人员]; returns the one-time code (sent by SMS; shown on the page only in a demo set-up)."""
    if len(institution.agents) >= eligibility.AGENTS_MAX:
        raise ConsultRefused(f"最多配备{eligibility.AGENTS_MAX}名客服人员（{eligibility.ART6}）")
    problems = []
    if not name.strip():
        problems.append("请填写客服姓名")
    if not phone.is_mobile(mobile):
        problems.append("请填写客服的11位手机号码，如 13800138000")
    if not hours.strip():
        problems.append("请填写服务时间，如 工作日 8:00-18:00")
    if problems:
        raise ConsultRefused("；".join(problems))
    user = create_user(Role.AGENT, mobile, name, secrets.token_urlsafe(24))  # AccountError when taken
    agent = ServiceAgent(name=name.strip(), phone=user.phone, hours=hours.strip()[:100], user_id=user.id)
    institution.agents.append(agent)
    db.session.flush()
    code = issue_code(user, ACTIVATE)
    notifications.notify(
        user,
        "agent_invited",
        "客服账号已开通",
        f"“{institution.name}”为您开通了佛山企质通客服账号，验证码{code}，24小时内有效。请在登录页选择“客服首次登录”设置密码。",
        sms_params={"name": institution.name[:20], "code": code},
    )
    audit.record(by, "add_agent", agent, after={"name": agent.name, "phone": agent.phone}, ip=ip)
    return code


def resend(agent: ServiceAgent, by: User, ip: str = "") -> str:
    """A new code for an agent who has not set its password yet, or lost it."""
    user = db.session.get(User, agent.user_id) if agent.user_id else None
    if user is None or not user.active:
        raise ConsultRefused("该客服没有可用的登录账号")
    code = issue_code(user, ACTIVATE)
    notifications.notify(
        user,
        "agent_invited",
        "客服账号验证码",
        f"您的佛山企质通客服账号验证码{code}，24小时内有效。",
        sms_params={"name": agent.institution.name[:20], "code": code},
    )
    audit.record(by, "resend_agent_code", agent, ip=ip)
    return code


def remove(agent: ServiceAgent, by: User, ip: str = "") -> None:
    """Off the homepage and its login switched off; its past replies keep their author."""
    if agent.user_id:
        account = db.session.get(User, agent.user_id)
        account.active = False
        account.end_sessions()
    audit.record(by, "remove_agent", agent, before={"name": agent.name, "phone": agent.phone}, ip=ip)
    agent.institution.agents.remove(agent)
