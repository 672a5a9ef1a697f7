"""Withdrawal forms: the institution's written request, and the staff's steps."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from qzt.core.forms import LongText, VersionedForm


class WithdrawalRequestForm(FlaskForm):
    letter = FileField("书面退出申请")
    reason = LongText("退出原因", max_length=2000)


class WithdrawalStepForm(VersionedForm):
    note = LongText("遗留问题处理情况", max_length=2000)
