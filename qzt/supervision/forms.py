"""Supervision forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, SelectField, StringField

from qzt.core.forms import LenientDate, LongText, Text, choices
from qzt.rules.complaints import REFERRAL_KINDS
from qzt.rules.ratings import STARS
from qzt.rules.sanctions import EXPULSION_CAUSES
from qzt.rules.supervision import CREDIT_KINDS, RECHECK_RESULTS, SPOT_CHECK_RESULTS


class SanctionForm(FlaskForm):
    """[隐藏主页] [恢复显示] [清退] [清理]: a reason always; a cause and evidence for an expulsion."""

    reason = LongText("理由", max_length=2000)
    cause = SelectField(
        "清退原因（第十七条）", choices=choices(*EXPULSION_CAUSES.items()), validate_choice=False
    )
    evidence = LongText("证据（投诉、抽查的链接或说明）", max_length=2000)


class RatingForm(FlaskForm):
    """[服务评价] 1–5 and a comment, [提交评价]."""

    stars = RadioField(
        "服务评价", choices=[SelectChoice(str(n), f"{n}星") for n in STARS], validate_choice=False
    )
    comment = LongText("评价内容（选填）", max_length=2000)

    def chosen_stars(self) -> int | None:
        raw = self.stars.data or ""
        return int(raw) if raw.isdigit() and len(raw) == 1 else None


class NoteForm(FlaskForm):
    """[跟进说明] of the institution, or the operator's follow-up."""

    note = LongText("跟进说明", max_length=2000)


class VerdictForm(FlaskForm):
    """[满意] or [不满意]: the button pressed."""

    verdict = StringField()


class ComplaintForm(FlaskForm):
    """[投诉]: against the institution or one of its agents."""

    agent = SelectField("投诉对象", validate_choice=False)
    body = LongText("发生了什么", max_length=5000)
    may_contact = BooleanField("同意平台工作人员通过我的手机号码联系我了解情况")
    # Files accepted on an earlier try of this form, so a mistake elsewhere loses no upload.
    kept = HiddenField()

    def agent_id(self) -> int | None:
        raw = self.agent.data or ""
        return int(raw) if raw.isdigit() and len(raw) < 10 else None

    def kept_ids(self) -> list[int]:
        return [int(p) for p in (self.kept.data or "").split(",") if p.isdigit() and len(p) < 10][:MAX_FILES]


MAX_FILES = 5


class VerifyForm(FlaskForm):
    """核查: [属实] or [不属实], the button pressed, with notes."""

    note = LongText("核查情况", max_length=5000)
    result = StringField()


class ReasonForm(FlaskForm):
    """[情节较重，提请清退]: why."""

    reason = LongText("情节较重的理由", max_length=2000)


class ReferralForm(FlaskForm):
    """移交 (Art. 15)."""

    kind = SelectField("移交给", choices=choices(*REFERRAL_KINDS.items()), validate_choice=False)
    body = Text("接收机关名称", max_length=200)
    on = LenientDate("移交日期")


class SpotCheckForm(FlaskForm):
    """[记录抽查]."""

    checked_on = LenientDate("抽查日期")
    subject = Text("抽查内容", max_length=200)
    finding = LongText("发现的问题", max_length=5000)
    result = SelectField("抽查结果", choices=choices(*SPOT_CHECK_RESULTS.items()), validate_choice=False)
    rectify_by = LenientDate("整改期限（限期整改时填写）")


class RecheckForm(FlaskForm):
    """[记录复查]."""

    outcome = SelectField("复查结果", choices=choices(*RECHECK_RESULTS.items()), validate_choice=False)
    note = LongText("复查情况", max_length=2000)


class CreditForm(FlaskForm):
    """[记录信用信息]."""

    kind = SelectField("类别", choices=choices(*CREDIT_KINDS.items()), validate_choice=False)
    recorded_on = LenientDate("日期（决定或列入日期）")
    source = Text("来源（决定书文号、公示系统等）", max_length=300)
    description = LongText("内容", max_length=5000)
