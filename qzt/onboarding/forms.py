"""Onboarding forms: registration, and each wizard step as sent (parsed here, validated by draft.py).

The wizard keeps what was typed even when it is wrong, so the step forms only read and trim; the
rules of each step live in qzt.onboarding.draft and qzt.rules.eligibility. Repeating rows use the
names q-0-name, s-1-title, a-0-phone (a FieldList of FormFields); the pressed button is `action`.
"""

import re
from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    StringField,
)
from wtforms.form import BaseForm
from wtforms.validators import DataRequired, EqualTo, InputRequired, ValidationError

from qzt.auth.forms import mobile_number, sms_code_field
from qzt.core.forms import Text
from qzt.onboarding import draft
from qzt.pledges.forms import PledgeForm
from qzt.rules import eligibility, passwords, phone, uscc


class RegisterForm(FlaskForm):
    """注册: [账号类型] first; an enterprise adds its name and, if it likes, its 统一社会信用代码."""

    kind = RadioField(
        "账号类型",
        choices=[SelectChoice("enterprise", "企业用户"), SelectChoice("institution", "服务机构")],
        validators=[InputRequired("请选择账号类型：企业用户或服务机构")],
    )
    company_name = Text("企业名称", max_length=200)
    company_uscc = Text("统一社会信用代码", max_length=20)
    phone = StringField("手机号码", validators=[DataRequired("请输入手机号码"), mobile_number])
    code = sms_code_field()
    password = PasswordField(
        "密码",
        validators=[DataRequired("请设置密码")],
        description=passwords.HINT,
    )
    confirm = PasswordField(
        "确认密码",
        validators=[DataRequired("请再次输入密码"), EqualTo("password", message="两次输入的密码不一致")],
    )
    consent = BooleanField(
        "我已阅读并同意《隐私政策》", validators=[DataRequired("请阅读并勾选同意《隐私政策》后再注册")]
    )

    def validate_password(self, field) -> None:
        if problem := passwords.problem(field.data or "", phone.normalize(self.phone.data or "")):
            raise ValidationError(problem)

    def validate_company_name(self, field) -> None:
        if self.kind.data == "enterprise" and not field.data:
            raise ValidationError("请填写企业名称")

    def validate_company_uscc(self, field) -> None:
        if self.kind.data == "enterprise" and field.data and (problem := uscc.problem(field.data)):
            raise ValidationError(problem)


class _Row(Form):
    def values(self) -> dict:
        return {name: field.data for name, field in self._fields.items()}


class QualificationRow(_Row):
    name = Text()
    number = Text()
    issuer = Text()
    valid_until = Text()
    file = FileField()


class ServiceRow(_Row):
    category = Text()
    title = Text()
    content = Text()
    featured = BooleanField()


class AgentRow(_Row):
    name = Text()
    phone = Text()
    hours = Text()


class StepForm(FlaskForm):
    """A wizard step: the button pressed ([上一步] [保存草稿] [下一步], add or remove a row)."""

    action = StringField(default="save")

    def sent(self) -> dict:
        """What the step sent, as the draft's plain values (uploads as FileStorage or None)."""
        raise NotImplementedError


class BasicStep(StepForm):
    name = Text()
    uscc = Text()
    legal_representative = Text()
    org_type = Text()
    district = Text()
    address = Text()
    introduction = Text()
    phone = Text()

    def sent(self) -> dict:
        return {"basic": {name: self[name].data for name in draft.BASIC_FIELDS}}


def _rows(field_list: FieldList) -> list[dict]:
    return [entry.form.values() for entry in field_list]


class LicenceStep(StepForm):
    licence = FileField()
    q = FieldList(FormField(QualificationRow), max_entries=draft.MAX_ROWS["q"])

    def sent(self) -> dict:
        return {"licence": self.licence.data, "qualifications": _rows(self.q)}


class ServicesStep(StepForm):
    s = FieldList(FormField(ServiceRow), max_entries=draft.MAX_ROWS["s"])

    def sent(self) -> dict:
        return {"services": _rows(self.s)}


class AgentsStep(StepForm):
    a = FieldList(FormField(AgentRow), max_entries=draft.MAX_ROWS["a"])

    def sent(self) -> dict:
        return {"agents": _rows(self.a)}


class EvidenceStep(StepForm):
    client_list = Text()
    lab_cert_number = Text()
    lab_cert_valid_until = Text()
    equipment_list = Text()
    case_images = MultipleFileField()
    lab_cert_file = FileField()

    def sent(self) -> dict:
        texts = ("client_list", "lab_cert_number", "lab_cert_valid_until", "equipment_list")
        return {
            "evidence": {name: self[name].data for name in texts},
            "case_images": [f for f in self.case_images.data or [] if f],
            "lab_cert_file": self.lab_cert_file.data,
        }


class DeclarationsStep(StepForm):
    def sent(self) -> dict:
        return {"declarations": {key: self[key].data for key in eligibility.DECLARATIONS}}


for _key, _text in eligibility.DECLARATIONS.items():  # one checkbox per Art. 5 declaration
    setattr(DeclarationsStep, _key, BooleanField(_text))

STEP_FORMS = {
    "basic": BasicStep,
    "licence": LicenceStep,
    "services": ServicesStep,
    "agents": AgentsStep,
    "evidence": EvidenceStep,
    "declarations": DeclarationsStep,
}


def sent_value(name: str, formdata) -> str:
    """One field as its step reads it (trimmed), whatever it is called (uscc, a-0-phone)."""
    form = BaseForm({name: Text()})
    form.process(formdata)
    return form[name].data or ""


_ROW_KEY = re.compile(r"([qsa])-(\d{1,2})-(\w+)")
_ROW_STEPS = {  # row prefix -> (step, data key, the fields that can be checked on their own)
    "q": ("licence", "qualifications", draft.QUALIFICATION_FIELDS),
    "s": ("services", "services", draft.SERVICE_FIELDS),
    "a": ("agents", "agents", draft.AGENT_FIELDS),
}


def field_problem(name: str, value: str, today: date) -> str | None:
    """What the step's rules (draft.py) say of field `name` holding `value`, None when it is fine.
    KeyError for a field that cannot be judged alone (an upload, a box, evidence that depends on step 3)."""
    if name in draft.BASIC_FIELDS:
        return draft.basic_errors({name: value}).get(name)
    match = _ROW_KEY.fullmatch(name)
    if match is None or match[3] not in _ROW_STEPS[match[1]][2]:
        raise KeyError(name)
    slug, key, _fields = _ROW_STEPS[match[1]]
    return draft.step_errors(slug, {key: [{match[3]: value}]}, today).get(f"{match[1]}-0-{match[3]}")


class ReviewStep(FlaskForm):
    """The summary step: [上一步], or [确认无误，下一步] with the digest of the data the page showed."""

    action = StringField(default="next")
    reviewed = HiddenField()


class SignStep(PledgeForm):
    """[签署承诺书] in the wizard, carrying the digest of the data the applicant reviewed."""

    reviewed = HiddenField()


class SubmitStep(FlaskForm):
    """[提交申请], carrying the same digest."""

    reviewed = HiddenField()
