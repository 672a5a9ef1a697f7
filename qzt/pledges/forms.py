"""The signing form: typed name, drawn signature, the password again, consent."""

import base64
import binascii

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

PNG_DATA_URL = "data:image/png;base64,"


class DrawingField(HiddenField):
    """The canvas drawing, sent as a PNG data URL; its bytes, or None when nothing was drawn (no
    JavaScript). A value that is not base64 is an error that says to draw again."""

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data, self.bad = None, False
        if self.raw.startswith(PNG_DATA_URL):
            try:
                self.data = base64.b64decode(self.raw[len(PNG_DATA_URL) :], validate=True)
            except (binascii.Error, ValueError):
                self.bad = True

    def pre_validate(self, form):
        if getattr(self, "bad", False):
            raise ValidationError("签名图片无效，请清除后重新签名")

    def _value(self):
        # A page sent back with an error shows the drawing again (signature.js redraws it).
        return self.raw if self.data else ""


class PledgeForm(FlaskForm):
    signer_name = StringField("签署人姓名", validators=[DataRequired("请输入签署人姓名"), Length(max=100)])
    signature = DrawingField()
    password = PasswordField("登录密码", validators=[DataRequired("请输入登录密码以确认是本人签署")])
    agree = BooleanField("我已阅读并同意承诺书", validators=[DataRequired("请勾选“我已阅读并同意承诺书”")])
