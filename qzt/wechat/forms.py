"""WeChat forms: binding by phone number and SMS code, and the choice of channels for notices."""

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, InputRequired

from qzt.auth.forms import mobile_number, sms_code_field
from qzt.rules import wechat


class BindForm(FlaskForm):
    """[手机号码] [短信验证码] [绑定并登录]."""

    phone = StringField("手机号码", validators=[DataRequired("请输入手机号码"), mobile_number])
    code = sms_code_field()


class ChannelsForm(FlaskForm):
    """How notices reach the user once WeChat is bound."""

    notify_by = RadioField(
        "通知方式",
        choices=[SelectChoice(value, label) for value, label in wechat.NOTIFY_CHOICES.items()],
        validators=[InputRequired("请选择通知方式")],
    )
