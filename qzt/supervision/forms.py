"""Supervision forms."""

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, StringField

from qzt.core.forms import LongText, choices
from qzt.rules.ratings import STARS
from qzt.rules.sanctions import EXPULSION_CAUSES


class SanctionForm(FlaskForm):
    """[隐藏主页] [恢复显示] [清退] [清理]: a reason always; a cause and evidence for an expulsion."""

    reason = LongText("理由", max_length=2000)
    cause = SelectField(
        "清退原因（第十七条）", choices=choices(*EXPULSION_CAUSES.items()), validate_choice=False
    )
    evidence = LongText("证据（文件编号、链接或说明）", max_length=2000)


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
