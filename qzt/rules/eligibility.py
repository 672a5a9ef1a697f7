"""Admission conditions (Art. 5–9) checked on an application's plain data.

The wizard stores its data as a dict (see qzt.onboarding.draft); each function here takes the part it
needs and returns Chinese messages that quote the rule, or an empty list when the part is fine.
"""

from datetime import date

from qzt.data.catalog import CATEGORY_NAMES

FEATURED_MIN, FEATURED_MAX = 2, 3  # Art. 7
AGENTS_MIN, AGENTS_MAX = 1, 2  # Art. 6, 14
# Art. 8: no statutory qualification exists for these; clients and cases stand in for one.
CASE_EVIDENCE_CATEGORIES = ("intellectual-property", "quality-management", "branding")
EQUIPMENT_SHARING = "equipment-sharing"  # Art. 9
CASE_YEARS = 2  # Art. 8: cases from the last two years

DECLARATIONS = {  # Art. 5
    "independent_legal_person": "本机构具有独立法人资格",
    "no_violation": "本机构近三年内无违法违规行为，在行业内无不良行为记录",
    "not_abnormal": "本机构未列入过经营异常名录",
    "not_dishonest": "本机构未列入过严重违法失信企业名单",
}

ART7 = "第七条：入驻机构原则上只能选择二至三项优势服务项目"
ART6 = "第六条：入驻机构应配备1-2名在线客服人员"


def empty_evidence() -> dict:
    """The Art. 8–9 evidence of an application before anything is given: case clients and files, the
    laboratory certificate, the equipment list."""
    return {
        "client_list": "",
        "case_file_ids": [],
        "lab_cert_number": "",
        "lab_cert_valid_until": "",
        "lab_cert_file_id": None,
        "equipment_list": "",
    }


def featured_problems(services: list[dict]) -> list[str]:
    """Art. 7: exactly 2 or 3 featured service items."""
    featured = sum(1 for s in services if s.get("featured"))
    if FEATURED_MIN <= featured <= FEATURED_MAX:
        return []
    return [f"请将{FEATURED_MIN}至{FEATURED_MAX}项设为优势服务项目（当前{featured}项）。{ART7}"]


def agent_problems(agents: list[dict]) -> list[str]:
    """Art. 6: one or two customer-service agents."""
    if AGENTS_MIN <= len(agents) <= AGENTS_MAX:
        return []
    return [f"请配备{AGENTS_MIN}至{AGENTS_MAX}名客服人员（当前{len(agents)}名）。{ART6}"]


def certificate_problem(valid_until: date | None, today: date) -> str | None:
    """Art. 5: qualifications must be within their validity."""
    if valid_until is None:
        return "请填写有效期至"
    if valid_until < today:
        return f"该证书已于{valid_until.isoformat()}过期，不能作为入驻资质。第五条：资质证明应在有效期内"
    return None


def featured_categories(services: list[dict]) -> set[str]:
    return {s.get("category") for s in services if s.get("featured")}


def needs_case_evidence(services: list[dict]) -> bool:
    """Art. 8 applies when a featured item is in 知识产权, 质量管理 or 品牌培育."""
    return bool(featured_categories(services) & set(CASE_EVIDENCE_CATEGORIES))


def needs_equipment_evidence(services: list[dict]) -> bool:
    """Art. 9 applies to equipment-sharing institutions: any service item in 设备共享."""
    return any(s.get("category") == EQUIPMENT_SHARING for s in services)


def case_evidence_categories(services: list[dict]) -> list[str]:
    return [CATEGORY_NAMES[c] for c in CASE_EVIDENCE_CATEGORIES if c in featured_categories(services)]
