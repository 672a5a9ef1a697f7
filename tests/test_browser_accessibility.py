"""Accessibility (GB/T 37668, WCAG 2.1 AA): axe-core finds no serious or critical violation on the pages
people use, at phone width (390 px) and on the desktop. One browser for the module; each viewport builds
its data once (an admitted institution with a year of records and its score sheets, an applicant in the
wizard, a submitted application) and visits every page as the person who uses it."""

import io
import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser import DESKTOP, PHONE, Person
from onboarding_helpers import PNG, fill_everything, fill_steps, post_step, register, services, submit
from playwright.sync_api import expect
from test_assessments import consult
from test_browser_assessments import ENTERPRISE, OPERATOR, OWNER, admitted_19_months_ago  # noqa: F401

from qzt.extensions import db
from qzt.models import Application, Assessment, Consultation, ConsultationMessage, Side, User

pytestmark = pytest.mark.browser

APPLICANT, SUBMITTER = "13600000001", "13600000002"
SERIOUS = ("serious", "critical")
AXE = Axe()


def violations(page) -> list[str]:
    """The serious and critical violations on the page as it stands, one line per rule with its nodes."""
    found = AXE.run(page).response["violations"]
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in found
        if v["impact"] in SERIOUS
    ]


@pytest.fixture
def records(app, admitted_19_months_ago):  # noqa: F811
    """The institution of the assessment tests with a consultation in progress and its score sheets, an
    applicant part-way through the wizard, and a submitted application."""
    inst = admitted_19_months_ago
    client_user = db.session.scalar(db.select(User).where(User.phone == ENTERPRISE))
    question = consult(inst, client_user, "2026-08-05T09:00", "2026-08-05T10:00", topic="灯具安全检测")
    for side, author, body in (
        (Side.CLIENT, client_user.id, "LED灯具安全检测需要送几个样品？"),
        (Side.INSTITUTION, inst.owner_id, "一般3个，详情可电话联系。"),
    ):
        db.session.add(
            ConsultationMessage(consultation_id=question.id, author_id=author, side=side, body=body)
        )
    db.session.commit()
    assert "新生成考核评分表" in app.test_cli_runner().invoke(args=["qzt", "assessments", "open"]).output

    in_wizard = app.test_client()  # 知识产权 too, so that step 5 (Art. 8 case evidence) applies
    register(in_wizard, phone=APPLICANT)
    fill_steps(in_wizard)
    assert post_step(in_wizard, 3, services(category="intellectual-property")).status_code == 302
    evidence = {"client_list": "佛山某公司 商标注册 2025-06", "case_images": (io.BytesIO(PNG), "case.png")}
    assert post_step(in_wizard, 5, evidence).status_code == 302
    submitter = app.test_client()
    register(submitter, phone=SUBMITTER)
    fill_everything(submitter)
    assert submit(submitter).status_code == 302

    sheet = db.session.scalar(db.select(Assessment).where(Assessment.institution_id == inst.id))
    application = db.session.scalar(db.select(Application).where(Application.submitted_at.is_not(None)))
    consultation = db.session.scalar(db.select(Consultation).where(Consultation.id == question.id))
    return {"institution": inst.id, "sheet": sheet, "application": application.id, "thread": consultation.id}


def pages_by_person(records) -> dict[str | None, list[str]]:
    inst, sheet = records["institution"], records["sheet"]
    return {
        None: [
            "/",
            "/directory",
            "/directory?q=灯具",
            f"/institutions/{inst}",
            "/guide",
            "/verify",
            f"/assessments/verify/{sheet.code}",
            "/login",
            "/register",
            "/password/forgot",
            "/privacy",
        ],
        APPLICANT: [f"/onboarding/step/{n}" for n in range(1, 8)],  # step 8 once step 7 is confirmed
        OPERATOR: [
            "/staff/applications",
            f"/staff/applications/{records['application']}",
            "/staff/consultations",
            "/staff/assessments",
            f"/staff/assessments/{sheet.id}",
        ],
        ENTERPRISE: [
            "/consultations",
            f"/consultations/{records['thread']}",
            f"/institutions/{inst}/consult",
            "/notices",
            "/account",
        ],
        OWNER: [
            "/workbench",
            "/consultations",
            f"/consultations/{records['thread']}",
            "/workbench/assessments",
        ],
    }


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_no_serious_or_critical_accessibility_violation(browser, live_server, records, viewport):
    found, people = [], []
    try:
        for who, paths in pages_by_person(records).items():
            person = Person(browser, live_server, viewport=viewport)
            people.append(person)
            if who:
                person.login(who)
            for path in paths:
                found += violations(person.open(path))
                assert urlsplit(person.page.url).path == urlsplit(path).path, (
                    f"{path} led to {person.page.url}"
                )
                if viewport == PHONE and path.startswith("/staff/applications/"):
                    person.shoot("a11y-staff-application")  # its audit table scrolls in a focusable box
            if who is None:  # a form in error: every field says what to fix
                person.open("/register").get_by_role("button", name="注册", exact=True).click()
                expect(person.page.locator("[aria-invalid=true]").first).to_be_visible()
                found += violations(person.page)
            if who == APPLICANT:  # the pledge step opens once the summary is confirmed
                person.page.get_by_role("button", name="确认无误，下一步").click()
                expect(person.page).to_have_url(re.compile(r"/onboarding/step/8$"))
                found += violations(person.page)
        # The refused registration answers 422, which Chromium logs; nothing else may be logged.
        problems = [p for person in people for p in person.problems if "status of 422" not in p]
    finally:
        for person in people:
            person.context.close()
    assert not found, "\n".join(found)
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_violation_when_there_is_one(page, live_server):
    """The check runs under the site's CSP and would report a picture without a text alternative."""
    page.goto(f"{live_server}/guide")
    assert violations(page) == []
    picture = 'Object.assign(new Image(), {src: "/static/img/favicon.svg"})'
    page.evaluate(f'document.querySelector("main").append({picture})')
    assert any("image-alt (critical)" in line for line in violations(page))
