"""Consultation forms: asking, replying, closing; deals and case reports."""

from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, Field, FieldList, Form, FormField, SelectField, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import TextInput

from qzt.core.forms import LenientDate, LongText, Text, VersionedForm


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


class Money(Field):
    """An amount in 元 as people type it (1500, 1,500.50, 1500元); None when blank."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "").strip()
        self.data, self.bad = None, False
        text = self.raw.replace(",", "").replace("，", "").removesuffix("元").strip()
        if text:
            try:
                self.data = Decimal(text).quantize(Decimal("0.01"))
            except (InvalidOperation, ValueError):
                self.bad = True
            else:
                self.bad = not self.data.is_finite() or self.data < 0 or self.data >= Decimal("1e10")

    def pre_validate(self, form):
        if getattr(self, "bad", False):
            raise ValidationError("请填写金额（元），如 1500 或 1500.50")

    def _value(self):
        return getattr(self, "raw", None) or ("" if self.data is None else str(self.data))


class CaseForm(FlaskForm):
    """成功服务案例: the Art. 13 fields; [保存草稿] or [报送案例]."""

    client_name = Text("客户名称", max_length=200)
    client_contact = Text("客户联系方式", max_length=100)
    topic = Text("咨询项目", max_length=200)
    details = LongText("具体内容")
    reply_summary = LongText("答复情况")
    deal_status = LongText("后续业务成交情况")
    saved_amount = Money("为客户节省金额（元）")
    action = StringField(default="save")


class DealDecisionForm(FlaskForm):
    """[确认成交] or [不属实]: the button pressed."""

    decision = StringField()


class CaseFilterForm(Form):
    """The staff's filters on reported cases (a GET form)."""

    institution = Text()
    start = LenientDate("报送日期从")
    end = LenientDate("至")


class AgentForm(FlaskForm):
    """[添加客服人员]: [客服姓名] [客服手机号码] [服务时间]."""

    name = Text("客服姓名", max_length=100)
    mobile = Text("客服手机号码", max_length=20)
    hours = Text("服务时间", max_length=100)


class ServiceRow(Form):
    category = Text(max_length=32)
    title = Text(max_length=200)
    content = Text()
    featured = BooleanField()


class HomepageForm(FlaskForm):
    """[机构主页维护]: what goes live at once."""

    introduction = LongText("机构简介")
    address = Text("详细地址", max_length=300)
    phone = Text("联系电话", max_length=30)
    s = FieldList(FormField(ServiceRow), max_entries=30)

    def services(self) -> list[dict]:
        return [{name: field.data for name, field in entry.form._fields.items()} for entry in self.s]


class NameChangeForm(FlaskForm):
    name = Text("新的机构名称", max_length=200)


class QualificationChangeForm(FlaskForm):
    q_name = Text("证书名称", max_length=200)
    q_number = Text("证书编号", max_length=100)
    q_issuer = Text("发证机构", max_length=200)
    q_valid_until = LenientDate("有效期至")
    q_file = FileField("证书文件")


class ChangeDecisionForm(VersionedForm):
    """[通过变更] or [退回变更] with a reason."""

    reason = LongText("理由", max_length=2000)
