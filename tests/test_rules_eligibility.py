"""Admission rules (Art. 5–9) and the wizard's draft validation, without an app or a database."""

from datetime import date, timedelta

import pytest
from onboarding_helpers import PDF, PNG, pdf_of_size, real_jpeg

from qzt.onboarding import draft
from qzt.rules import eligibility, uploads

TODAY = date(2026, 11, 24)


def items(featured: int, ordinary: int = 0, category: str = "inspection") -> list[dict]:
    return [
        {"category": category, "title": f"项目{i}", "featured": i < featured}
        for i in range(featured + ordinary)
    ]


@pytest.mark.parametrize("featured, ok", [(0, False), (1, False), (2, True), (3, True), (4, False)])
def test_art7_two_to_three_featured_items(featured, ok):
    assert (eligibility.featured_problems(items(featured, ordinary=2)) == []) is ok


@pytest.mark.parametrize("count, ok", [(0, False), (1, True), (2, True), (3, False)])
def test_art6_one_or_two_agents(count, ok):
    assert (eligibility.agent_problems([{}] * count) == []) is ok


def test_art5_certificates_must_be_valid():
    assert eligibility.certificate_problem(TODAY, TODAY) is None  # valid through its last day
    assert "过期" in eligibility.certificate_problem(TODAY - timedelta(days=1), TODAY)
    assert eligibility.certificate_problem(None, TODAY)


@pytest.mark.parametrize("category", eligibility.CASE_EVIDENCE_CATEGORIES)
def test_art8_case_evidence_for_featured_items_without_statutory_qualification(category):
    services = items(2, category=category)
    assert eligibility.needs_case_evidence(services)
    assert draft.evidence_applies({"services": services})
    errors = draft.evidence_errors({"services": services, "evidence": {}}, TODAY)
    assert set(errors) == {"client_list", "case_images"}


def test_art8_ordinary_item_in_those_categories_does_not_trigger_it():
    services = items(2) + [{"category": "branding", "title": "品牌", "featured": False}]
    assert not eligibility.needs_case_evidence(services)


def test_art9_equipment_sharing_needs_lab_accreditation_and_equipment_list():
    services = items(2) + [{"category": "equipment-sharing", "title": "设备共享", "featured": False}]
    assert eligibility.needs_equipment_evidence(services)
    errors = draft.evidence_errors(
        {"services": services, "evidence": {"lab_cert_valid_until": "2020-01-01"}}, TODAY
    )
    assert set(errors) == {"lab_cert_number", "lab_cert_valid_until", "lab_cert_file", "equipment_list"}
    assert "过期" in errors["lab_cert_valid_until"]


def test_inspection_body_skips_the_evidence_step():
    data = {"services": items(2)}
    assert [s.slug for s in draft.steps_for(data)] == [
        "basic",
        "licence",
        "services",
        "agents",
        "declarations",
        "summary",
        "pledge",
    ]


def test_art5_every_declaration_is_needed():
    assert len(draft.declarations_errors({"declarations": {}})) == 4
    assert draft.declarations_errors({"declarations": dict.fromkeys(eligibility.DECLARATIONS, True)}) == {}


def test_basic_information_messages():
    errors = draft.basic_errors({"uscc": "123", "introduction": "太短", "phone": "12345"})
    assert set(errors) >= {
        "name",
        "uscc",
        "legal_representative",
        "org_type",
        "district",
        "address",
        "introduction",
        "phone",
    }
    ok = draft.basic_errors(
        {
            "name": "某所",
            "uscc": "91440101MA59TLX5X9",
            "legal_representative": "张三",
            "org_type": "research",
            "district": "outside",
            "address": "北京",
            "introduction": "本机构" * 10,
            "phone": "010-62345678",
        }
    )
    assert ok == {}


def test_bad_dates_say_the_format():
    data = {
        "licence_file_id": 1,
        "qualifications": [{"name": "x", "issuer": "y", "valid_until": "2027/13/01", "file_id": 2}],
    }
    assert "年-月-日" in draft.licence_errors(data, TODAY)["q-0-valid_until"]


def test_missing_lists_every_step_that_is_incomplete():
    steps = {step.slug for step, _message in draft.missing(draft.empty(), TODAY)}
    assert steps == {"basic", "licence", "services", "agents", "declarations"}


@pytest.mark.parametrize(
    "data, mime",
    [(PDF, "application/pdf"), (real_jpeg(), "image/jpeg"), (PNG, "image/png")],
)
def test_art10_uploads_recognised_by_content(data, mime):
    assert uploads.check(data, "whatever.exe") == mime


@pytest.mark.parametrize("data", [b"MZ\x90\x00" + b"\0" * 20, b"<html><script>", b"PK\x03\x04" + b"\0" * 20])
def test_art10_other_content_is_refused_whatever_its_name(data):
    with pytest.raises(uploads.UploadRejected, match="按文件内容识别"):
        uploads.check(data, "licence.pdf")


def test_art10_uploads_limited_to_10mb():
    assert uploads.check(pdf_of_size(uploads.MAX_BYTES)) == "application/pdf"
    with pytest.raises(uploads.UploadRejected, match="超过10MB"):
        uploads.check(pdf_of_size(uploads.MAX_BYTES + 1))


def test_images_only_fields_refuse_pdf():
    with pytest.raises(uploads.UploadRejected, match="JPG或PNG"):
        uploads.check(PDF, images_only=True)


def test_values_longer_than_their_column_are_refused_with_the_limit():
    errors = draft.basic_errors({"name": "佛" * 201, "address": "路" * 301})
    assert errors["name"] == "名称不能超过200个字（当前201个字）"
    assert "300" in errors["address"]
    rows = draft.services_errors(
        {"services": [{"category": "metrology", "title": "项" * 201, "featured": True}]}
    )
    assert "200" in rows["s-0-title"]
    agents = draft.agents_errors({"agents": [{"name": "王" * 101, "phone": "13800138000", "hours": "全天"}]})
    assert "不能超过100个字" in agents["a-0-name"]
