"""Forms of the operator's tools."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

from qzt.core.forms import LenientDate, Text, choices


class CalendarCorrectionForm(FlaskForm):
    day = LenientDate("日期")
    working = SelectField(
        "该日为",
        choices=choices(("1", "工作日（如调休上班）"), ("0", "休息日（如法定节假日）")),
        validate_choice=False,
    )
    note = Text("说明", max_length=200)

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.day.data is None or self.working.data not in ("1", "0"):
            self.form_errors.append("请填写日期并选择该日为工作日还是休息日")
            return False
        return True


class ResolveNoticeForm(FlaskForm):
    resend = HiddenField()  # the button pressed: "1" queues the notice again, anything else confirms it
