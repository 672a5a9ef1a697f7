"""Registration form (the wizard steps are parsed in services.py)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from qzt.auth.forms import mobile_number
from qzt.auth.services import MIN_PASSWORD


class RegisterForm(FlaskForm):
    phone = StringField("手机号码", validators=[DataRequired("请输入手机号码"), mobile_number])
    password = PasswordField(
        "密码",
        validators=[
            DataRequired("请设置密码"),
            Length(min=MIN_PASSWORD, message=f"密码至少{MIN_PASSWORD}位"),
        ],
    )
    confirm = PasswordField(
        "确认密码",
        validators=[DataRequired("请再次输入密码"), EqualTo("password", message="两次输入的密码不一致")],
    )
    consent = BooleanField(
        "我已阅读并同意《隐私政策》", validators=[DataRequired("请阅读并勾选同意《隐私政策》后再注册")]
    )
