"""The application wizard's data: a plain dict saved on every step, and its validation per step.

No Flask here. Values are kept as the user typed them (strings), so that nothing is lost when a
step has errors; errors are keyed by the form field names the templates use.
"""

import re
from dataclasses import dataclass
from datetime import date

from qzt.data.catalog import CATEGORY_NAMES, DISTRICT_NAMES, ORG_TYPE_NAMES
from qzt.rules import eligibility, phone, upkeep, uscc
from qzt.rules.values import parse_date

BASIC_FIELDS = (
    "name",
    "uscc",
    "legal_representative",
    "org_type",
    "district",
    "address",
    "introduction",
    "phone",
)
QUALIFICATION_FIELDS = ("name", "number", "issuer", "valid_until")
SERVICE_FIELDS = ("category", "title", "content")
AGENT_FIELDS = ("name", "phone", "hours")
MIN_INTRODUCTION = upkeep.INTRODUCTION_MIN  # Annex 2 item 3: a complete introduction
# The longest value each field may hold once the application becomes an Institution (the columns' sizes).
MAX_LENGTH = {
    "basic": {
        "name": 200,
        "uscc": 20,
        "legal_representative": 100,
        "address": 300,
        "phone": 30,
        "introduction": 5000,
    },
    "q": {"name": 200, "number": 100, "issuer": 200, "valid_until": 10},
    "s": {"category": 32, "title": 200, "content": 5000},
    "a": {"name": 100, "phone": 20, "hours": 100},
}
_LABELS = {
    "name": "名称",
    "legal_representative": "法定代表人",
    "address": "详细地址",
    "phone": "电话",
    "introduction": "机构简介",
    "number": "证书编号",
    "issuer": "发证机构",
    "title": "项目名称",
    "content": "项目内容",
    "hours": "服务时间",
}


def _too_long(values: dict, kind: str, prefix: str = "") -> dict[str, str]:
    """Errors for values longer than their column allows, keyed by input name."""
    limits = MAX_LENGTH[kind]
    return {
        f"{prefix}{key}": f"{_LABELS.get(key, key)}不能超过{limits[key]}个字（当前{len(value)}个字）"
        for key, value in values.items()
        if isinstance(value, str) and key in limits and len(value) > limits[key]
    }


@dataclass(frozen=True)
class Step:
    number: int
    slug: str
    title: str


# The most rows a step keeps: certificates and service items are many at most; agents as Art. 6 allows.
MAX_ROWS = {"q": 30, "s": 30, "a": eligibility.AGENTS_MAX}

STEPS = (
    Step(1, "basic", "基本信息"),
    Step(2, "licence", "执照与资质"),
    Step(3, "services", "服务项目"),
    Step(4, "agents", "客服人员"),
    Step(5, "evidence", "证明材料"),
    Step(6, "declarations", "入驻声明"),
    Step(7, "summary", "核对资料"),
    Step(8, "pledge", "签署承诺书"),
)
STEP_BY_SLUG = {s.slug: s for s in STEPS}
STEP_BY_NUMBER = {s.number: s for s in STEPS}
PLEDGE_STEP, SUMMARY_STEP = STEP_BY_SLUG["pledge"], STEP_BY_SLUG["summary"]


def empty() -> dict:
    return {
        "basic": dict.fromkeys(BASIC_FIELDS, ""),
        "licence_file_id": None,
        "qualifications": [],
        "services": [],
        "agents": [],
        "evidence": eligibility.empty_evidence(),
        "declarations": dict.fromkeys(eligibility.DECLARATIONS, False),
    }


def evidence_applies(data: dict) -> bool:
    """Step 5 shows only for Art. 8 or Art. 9 institutions."""
    services = data.get("services", [])
    return eligibility.needs_case_evidence(services) or eligibility.needs_equipment_evidence(services)


def steps_for(data: dict) -> list[Step]:
    """The steps that apply, in order (the step bar shows all eight, one that does not apply as 不适用)."""
    return [s for s in STEPS if not skipped(s, data)]


def skipped(step: Step, data: dict) -> bool:
    return step.slug == "evidence" and not evidence_applies(data)


def _date_error(value: str, today: date) -> str | None:
    if not (value or "").strip():
        return "请填写有效期至"
    parsed = parse_date(value)
    if parsed is None:
        return "日期格式应为 年-月-日，如 2027-06-30"
    return eligibility.certificate_problem(parsed, today)


def basic_errors(basic: dict, _today: date | None = None) -> dict[str, str]:
    errors = {}
    required = {"name": "机构名称", "legal_representative": "法定代表人", "address": "详细地址"}
    for key, label in required.items():
        if not basic.get(key, "").strip():
            errors[key] = f"请填写{label}"
    if problem := uscc.problem(basic.get("uscc", "")):
        errors["uscc"] = problem
    if basic.get("org_type") not in ORG_TYPE_NAMES:
        errors["org_type"] = "请选择机构类型"
    if basic.get("district") not in DISTRICT_NAMES:
        errors["district"] = "请选择所在区（佛山市以外的机构请选“市外”）"
    if len(basic.get("introduction", "").strip()) < MIN_INTRODUCTION:
        errors["introduction"] = f"机构简介至少{MIN_INTRODUCTION}个字，请介绍机构的业务范围、能力和特色"
    if not phone.is_contact_number(basic.get("phone", "")):
        errors["phone"] = "请填写手机号码或带区号的固定电话，如 13800138000 或 0757-83301234"
    return {**errors, **_too_long(basic, "basic")}


def licence_errors(data: dict, today: date) -> dict[str, str]:
    errors = {}
    if not data.get("licence_file_id"):
        errors["licence"] = "请上传营业执照或法人证书（PDF、JPG或PNG）"
    for i, q in enumerate(data.get("qualifications", [])):
        if not q.get("name", "").strip():
            errors[f"q-{i}-name"] = "请填写证书名称"
        if not q.get("issuer", "").strip():
            errors[f"q-{i}-issuer"] = "请填写发证机构"
        if problem := _date_error(q.get("valid_until", ""), today):
            errors[f"q-{i}-valid_until"] = problem
        if not q.get("file_id"):
            errors[f"q-{i}-file"] = "请上传证书文件"
        errors.update(_too_long(q, "q", f"q-{i}-"))
    return errors


def services_errors(data: dict, _today: date | None = None) -> dict[str, str]:
    services = data.get("services", [])
    errors = {}
    if not services:
        errors["services"] = f"请添加服务项目，并将其中2至3项设为优势服务项目。{eligibility.ART7}"
    for i, s in enumerate(services):
        if s.get("category") not in CATEGORY_NAMES:
            errors[f"s-{i}-category"] = "请选择服务类别"
        if not s.get("title", "").strip():
            errors[f"s-{i}-title"] = "请填写项目名称"
        errors.update(_too_long(s, "s", f"s-{i}-"))
    if services and (problems := eligibility.featured_problems(services)):
        errors["services"] = problems[0]
    return errors


def agents_errors(data: dict, _today: date | None = None) -> dict[str, str]:
    agents = data.get("agents", [])
    errors = {}
    for i, a in enumerate(agents):
        if not a.get("name", "").strip():
            errors[f"a-{i}-name"] = "请填写客服姓名"
        if not phone.is_mobile(a.get("phone", "")):
            errors[f"a-{i}-phone"] = "请填写11位手机号码，如 13800138000"
        if not a.get("hours", "").strip():
            errors[f"a-{i}-hours"] = "请填写服务时间，如 工作日 8:00-18:00"
        errors.update(_too_long(a, "a", f"a-{i}-"))
    if problems := eligibility.agent_problems(agents):
        errors["agents"] = problems[0]
    return errors


def evidence_errors(data: dict, today: date) -> dict[str, str]:
    services, evidence = data.get("services", []), data.get("evidence", {})
    errors = {}
    if eligibility.needs_case_evidence(services):
        if not evidence.get("client_list", "").strip():
            errors["client_list"] = "请填写两年内服务过的客户名录（第八条）"
        if not evidence.get("case_file_ids"):
            errors["case_images"] = "请上传至少一张两年内的案例图片（第八条）"
    if eligibility.needs_equipment_evidence(services):
        if not evidence.get("lab_cert_number", "").strip():
            errors["lab_cert_number"] = "请填写实验室认可证书编号（第九条）"
        if problem := _date_error(evidence.get("lab_cert_valid_until", ""), today):
            errors["lab_cert_valid_until"] = problem
        if not evidence.get("lab_cert_file_id"):
            errors["lab_cert_file"] = "请上传现行有效的实验室认可证书（第九条）"
        if not evidence.get("equipment_list", "").strip():
            errors["equipment_list"] = "请填写共享仪器设备清单（第九条）"
    return errors


def declarations_errors(data: dict, _today: date | None = None) -> dict[str, str]:
    declarations = data.get("declarations", {})
    return {
        key: f"请勾选确认：{text}（第五条）"
        for key, text in eligibility.DECLARATIONS.items()
        if not declarations.get(key)
    }


# Messages about a step's rows as a whole, shown above them (their element is `<key>-msg`).
GROUP_KEYS = ("services", "agents")
ROW_FIELDS = {"q": (*QUALIFICATION_FIELDS, "file"), "s": (*SERVICE_FIELDS, "featured"), "a": AGENT_FIELDS}
_ROW_KEY = re.compile(r"^([qsa])-(\d+)-(\w+)$")


def in_form_order(errors: dict[str, str]) -> list[tuple[str, str, str]]:
    """A step's errors as the form shows its fields, top to bottom: (key, the element to jump to,
    message). The step's own messages first, then the fields, row by row; the rest as they came."""

    def position(key: str) -> tuple[int, int, int]:
        if key in GROUP_KEYS:
            return (0, 0, 0)
        if key in BASIC_FIELDS:
            return (1, BASIC_FIELDS.index(key), 0)
        if match := _ROW_KEY.match(key):
            fields = ROW_FIELDS[match[1]]
            field = fields.index(match[3]) if match[3] in fields else len(fields)
            return (2, int(match[2]), field)
        return (3, 0, 0)

    ordered = sorted(errors.items(), key=lambda item: position(item[0]))
    return [(key, f"{key}-msg" if key in GROUP_KEYS else key, message) for key, message in ordered]


VALIDATORS = {
    "basic": lambda data, today: basic_errors(data.get("basic", {})),
    "licence": licence_errors,
    "services": services_errors,
    "agents": agents_errors,
    "evidence": evidence_errors,
    "declarations": declarations_errors,
}


def step_errors(slug: str, data: dict, today: date) -> dict[str, str]:
    validate = VALIDATORS.get(slug)
    if validate is None or (slug == "evidence" and not evidence_applies(data)):
        return {}
    return validate(data, today)


def done_steps(data: dict, today: date, reviewed: bool, pledge_signed: bool) -> set[int]:
    """The numbers of the steps the step bar marks as complete."""
    done = {
        s.number
        for s in steps_for(data)
        if s not in (PLEDGE_STEP, SUMMARY_STEP) and not step_errors(s.slug, data, today)
    }
    return done | {
        n for n, ok in ((SUMMARY_STEP.number, reviewed), (PLEDGE_STEP.number, pledge_signed)) if ok
    }


def neighbour(data: dict, step: Step, direction: int) -> int:
    """The number of the step before (-1) or after (+1) `step` among those that apply (a step that does
    not apply is passed over); `step` itself at either end."""
    numbers = [s.number for s in steps_for(data)]
    if direction > 0:
        return next((n for n in numbers if n > step.number), numbers[-1])
    return next((n for n in reversed(numbers) if n < step.number), numbers[0])


def missing(data: dict, today: date) -> list[tuple[Step, str]]:
    """Everything that stops review and submission, step by step (the pledge is checked by the caller)."""
    return [
        (step, message)
        for step in steps_for(data)
        for message in step_errors(step.slug, data, today).values()
    ]
