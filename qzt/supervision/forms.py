"""Supervision forms."""

from flask_wtf import FlaskForm
from wtforms import SelectField

from qzt.core.forms import LongText, choices
from qzt.rules.sanctions import EXPULSION_CAUSES


class SanctionForm(FlaskForm):
    """[隐藏主页] [恢复显示] [清退] [清理]: a reason always; a cause and evidence for an expulsion."""

    reason = LongText("理由", max_length=2000)
    cause = SelectField(
        "清退原因（第十七条）", choices=choices(*EXPULSION_CAUSES.items()), validate_choice=False
    )
    evidence = LongText("证据（文件编号、链接或说明）", max_length=2000)
