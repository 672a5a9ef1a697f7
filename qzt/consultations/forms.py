"""Consultation forms: asking, replying, closing."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField

from qzt.core.forms import LongText


class ConsultForm(FlaskForm):
    """[在线咨询]: [咨询项目] [咨询内容], an optional attachment, [提交咨询]."""

    service_item = SelectField("咨询项目", validate_choice=False)  # choices: the institution's items and 其他
    body = LongText("咨询内容")
    attachment = FileField("附件（可选）")

    def chosen_item_id(self) -> int | None:
        raw = self.service_item.data or ""
        return int(raw) if raw.isdigit() and len(raw) < 10 else None


class ReplyForm(FlaskForm):
    """[回复内容] [发送回复]."""

    body = LongText("回复内容")
    attachment = FileField("附件（可选）")
