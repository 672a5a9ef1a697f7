"""Login form: mobile number and password."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, ValidationError

from qzt.rules import phone


def mobile_number(_form, field) -> None:
    if not phone.is_mobile(field.data or ""):
        raise ValidationError("请输入11位中国大陆手机号码，如 13800138000")


class LoginForm(FlaskForm):
    phone = StringField("手机号码", validators=[DataRequired("请输入手机号码"), mobile_number])
    password = PasswordField("密码", validators=[DataRequired("请输入密码")])
