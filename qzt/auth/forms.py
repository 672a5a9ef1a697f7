"""Account forms: login, and staff accounts created by the admin."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from qzt.core.forms import choices
from qzt.rules import passwords, phone


def mobile_number(_form, field) -> None:
    if not phone.is_mobile(field.data or ""):
        raise ValidationError("请输入11位中国大陆手机号码，如 13800138000")


class LoginForm(FlaskForm):
    phone = StringField("手机号码", validators=[DataRequired("请输入手机号码"), mobile_number])
    password = PasswordField("密码", validators=[DataRequired("请输入密码")])


class StaffAccountForm(FlaskForm):
    role = SelectField(
        "角色",
        choices=choices(
            ("operator", "平台运维机构"), ("authority", "平台管理单位（质量发展科）"), ("admin", "系统管理员")
        ),
        validators=[DataRequired("请选择角色")],
    )
    name = StringField("姓名")
    phone = StringField("手机号码")
    password = PasswordField("初始密码")


class ActivateForm(FlaskForm):
    """客服首次登录: [手机号码] [验证码] [设置密码] [确认密码]."""

    phone = StringField("手机号码", validators=[DataRequired("请输入手机号码"), mobile_number])
    code = StringField("验证码", validators=[DataRequired("请输入短信验证码")])
    password = PasswordField("设置密码", validators=[DataRequired("请设置密码")])
    confirm = PasswordField(
        "确认密码",
        validators=[DataRequired("请再次输入密码"), EqualTo("password", message="两次输入的密码不一致")],
    )


def sms_code_field() -> StringField:
    return StringField("短信验证码", validators=[DataRequired("请输入短信验证码")])


def new_password_fields(label: str = "密码") -> tuple[PasswordField, PasswordField]:
    return (
        PasswordField(label, validators=[DataRequired(f"请设置{label}")]),
        PasswordField(
            "确认密码",
            validators=[DataRequired("请再次输入密码"), EqualTo("password", message="两次输入的密码不一致")],
        ),
    )


class CodeRequestForm(FlaskForm):
    """[获取验证码]: only the number counts (the rest of the page's form is kept as typed)."""

    phone = StringField(
        "手机号码", validators=[DataRequired("请先填写手机号码，再获取验证码"), mobile_number]
    )


class ForgotPasswordForm(FlaskForm):
    """[忘记密码]: the number, the SMS code and a new password."""

    phone = StringField("手机号码", validators=[DataRequired("请输入手机号码"), mobile_number])
    code = sms_code_field()
    password, confirm = new_password_fields("新密码")

    def validate_password(self, field) -> None:
        if problem := passwords.problem(field.data or "", phone.normalize(self.phone.data or "")):
            raise ValidationError(problem)


class ChangePasswordForm(FlaskForm):
    """[修改密码]: the current password, and a new one twice."""

    current = PasswordField("当前密码", validators=[DataRequired("请输入当前密码")])
    password, confirm = new_password_fields("新密码")
