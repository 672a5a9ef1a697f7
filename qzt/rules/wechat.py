"""WeChat as a way in and a channel for notices (Art. 10): who may bind, which channels a notice takes.

Art. 10 says an admitted institution "收到短信通知": the admission result always goes by SMS, also to a
user who reads the rest of their notices in WeChat.
"""

import json

SMS = "sms"
WECHAT = "wechat"

# The admission result (approved, rejected): by SMS whatever the user chose (Art. 10).
SMS_ALWAYS = frozenset({"approved", "rejected"})

# The user's choice on the account page, for notices other than those above.
NOTIFY_WECHAT = "wechat"
NOTIFY_BOTH = "both"
NOTIFY_SMS = "sms"
NOTIFY_CHOICES = {
    NOTIFY_WECHAT: "只用微信通知（入驻审核结果仍发短信）",
    NOTIFY_BOTH: "微信和短信都发",
    NOTIFY_SMS: "只用短信通知",
}

USER_AGENT_MARK = "MicroMessenger"


def in_wechat(user_agent: str | None) -> bool:
    """The page is open in WeChat's own browser."""
    return USER_AGENT_MARK in (user_agent or "")


def may_bind(is_staff: bool) -> bool:
    """Staff accounts keep their password (and its session timeout): no WeChat login for them."""
    return not is_staff


def channels(kind: str, *, bound: bool, choice: str, has_template: bool) -> tuple[str, ...]:
    """The channels a notice of `kind` goes by, the first being the one the notice is read as."""
    if not bound or not has_template or choice == NOTIFY_SMS:
        return (SMS,)
    if choice == NOTIFY_BOTH or kind in SMS_ALWAYS:
        return (WECHAT, SMS)
    return (WECHAT,)


def parse_templates(value: str | dict | None) -> dict[str, str]:
    """QZT_WECHAT_TEMPLATES: a JSON object, notice kind -> subscription template id."""
    if not value:
        return {}
    templates = json.loads(value) if isinstance(value, str) else value
    if not isinstance(templates, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in templates.items()
    ):
        raise ValueError('QZT_WECHAT_TEMPLATES: expected a JSON object, e.g. {"approved": "模板ID"}')
    return templates


def thing(text: str, limit: int = 20) -> str:
    """A subscription message's `thing` field holds at most 20 characters."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
