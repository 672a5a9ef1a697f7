"""The admission state machine (Art. 10–12): which role may do what, in which state, leading where.

Plain data: states and roles are strings (the enums' values), so the table reads like the regulation.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Transition:
    action: str
    label: str  # the button text
    roles: frozenset[str]
    sources: frozenset[str]
    target: str


def _t(action: str, label: str, roles: set[str], sources: set[str], target: str) -> Transition:
    return Transition(action, label, frozenset(roles), frozenset(sources), target)


OPERATOR, AUTHORITY, APPLICANT = "operator", "authority", "institution"
STAFF = {OPERATOR, AUTHORITY}
IN_REVIEW = {"submitted", "site_visit"}

TRANSITIONS = (
    _t("submit", "提交申请", {APPLICANT}, {"draft", "info_requested"}, "submitted"),
    _t("request_info", "要求补充材料", STAFF, IN_REVIEW | {"awaiting_decision"}, "info_requested"),
    _t("schedule_visit", "安排实地调查", STAFF, {"submitted", "awaiting_decision"}, "site_visit"),
    _t("record_visit", "记录调查结果", STAFF, {"site_visit"}, "submitted"),
    _t("recommend_approval", "建议通过", {OPERATOR}, IN_REVIEW, "awaiting_decision"),
    _t("recommend_rejection", "建议不予通过", {OPERATOR}, IN_REVIEW, "awaiting_decision"),
    _t("approve", "批准入驻", {AUTHORITY}, {"awaiting_decision"}, "approved"),
    _t(
        "reject",
        "不予通过",
        {AUTHORITY},
        {"awaiting_decision", "info_requested", "site_visit", "submitted"},
        "rejected",
    ),
    _t(
        "withdraw",
        "撤回申请",
        {APPLICANT},
        {"draft", "submitted", "info_requested", "site_visit", "awaiting_decision"},
        "withdrawn",
    ),
)
BY_ACTION = {t.action: t for t in TRANSITIONS}


class TransitionRefused(ValueError):
    """The message says why, in Chinese."""


def target(state: str, action: str, role: str) -> str:
    """The state `action` leads to from `state` for `role`, or TransitionRefused."""
    transition = BY_ACTION.get(action)
    if transition is None:
        raise TransitionRefused("未知的操作")
    if role not in transition.roles:
        raise TransitionRefused(f"您的角色不能执行“{transition.label}”")
    if state not in transition.sources:
        raise TransitionRefused(f"申请当前状态下不能执行“{transition.label}”")
    return transition.target


def available(state: str, role: str) -> list[Transition]:
    """The actions `role` may take now, in the table's order (the buttons to show)."""
    return [t for t in TRANSITIONS if role in t.roles and state in t.sources]


# --- claims (security issue 8): who may act on an application someone has claimed ---

# The states staff still act in; a claim only matters, and can only be handed over, in these.
OPEN = frozenset().union(*(t.sources for t in TRANSITIONS if t.roles & STAFF))
# 质量发展科 decides: it acts on any application, whoever has claimed it.
ACTS_ON_ANY_CLAIM = frozenset({AUTHORITY})
MAX_TRANSFER_REASON = 200


def may_handle(user_id: int, role: str, claimant_id: int | None) -> bool:
    """Unclaimed: anyone the transition table lets act. Claimed: the claimant or 质量发展科 only."""
    return claimant_id is None or claimant_id == user_id or role in ACTS_ON_ANY_CLAIM


def check_handler(user_id: int, role: str, claimant_id: int | None, claimant_name: str) -> None:
    """TransitionRefused unless `may_handle`: the message says who holds it and how to take it over."""
    if not may_handle(user_id, role, claimant_id):
        raise TransitionRefused(
            f"该申请已由{claimant_name}领取，只有领取人或质量发展科可以处理；如需接手，请先“转交”"
        )


def transfer_refusal(user_id: int, role: str, state: str, claimant_id: int | None) -> str | None:
    """Why `user_id` may not take the claim over ([转交]), or None when they may."""
    if role not in STAFF:
        return "您的角色不能转交申请"
    if state not in OPEN:
        return "该申请已办结，无需转交"
    if claimant_id is None:
        return "该申请尚未领取，请直接“领取”"
    if claimant_id == user_id:
        return "该申请已由您领取，无需转交"
    return None
