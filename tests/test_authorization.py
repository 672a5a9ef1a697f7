"""Who may open what: every route of app.url_map, for every kind of visitor (Art. 3, 10–12).

A route added without a row here fails test_every_route_has_a_row. Statuses are exact: "login" is a
redirect to /login; other redirects give their target path.
"""

from datetime import date

import pytest
from factories import application_data
from onboarding_helpers import PDF
from shared_fixtures import csrf

from qzt.assessments import printing
from qzt.assessments import services as assessments
from qzt.consultations import cases, homepage
from qzt.consultations import services as consultations
from qzt.core import files
from qzt.extensions import db, limiter
from qzt.models import (
    ApplicationState,
    FollowUpState,
    ListingState,
    Notification,
    Rating,
    Role,
    WithdrawalRequest,
)
from qzt.onboarding import draft
from qzt.pledges import signing
from qzt.supervision import checks, complaints
from qzt.supervision import services as sanctions

ROLES = (
    "anon",
    "enterprise",
    "inst_b",
    "operator",
    "authority",
    "admin",
    "inst_a",
)  # inst_a last: it mutates
ALL = dict.fromkeys(ROLES, 200)
STAFF_ONLY = {
    "anon": "login",
    "enterprise": 403,
    "inst_b": 403,
    "inst_a": 403,
    "operator": 200,
    "authority": 200,
    "admin": 200,
}
APPLICANT_ONLY = {"anon": "login", "enterprise": 403, "operator": 403, "authority": 403, "admin": 403}
# Files and the signed pledge: the owner and staff; anyone else gets 404 (never "it exists").
OWNER_AND_STAFF = {
    "enterprise": 404,
    "inst_b": 404,
    "inst_a": 200,
    "operator": 200,
    "authority": 200,
    "admin": 200,
}


def row(**statuses):
    return statuses


def NO_ONE_BUT(role: str) -> dict:  # noqa: N802 (reads as a row)
    """Everyone logged in but `role` is refused (403); visitors are sent to log in."""
    return {**dict.fromkeys(ROLES, 403), "anon": "login", role: None}


STAFF_FORBIDDEN = {**dict.fromkeys(ROLES, 403), "anon": "login"}
THREAD_READERS = {**dict.fromkeys(ROLES, 200), "anon": "login", "inst_b": 404}
THREAD_WRITERS = {**THREAD_READERS, "operator": 403, "authority": 403, "admin": 403}

MATRIX = {
    ("GET", "static"): ALL,
    ("GET", "healthz"): ALL,
    ("GET", "readyz"): ALL,
    ("GET", "directory.home"): ALL,
    ("GET", "directory.listing"): ALL,
    ("GET", "directory.institution"): ALL,
    ("GET", "api.categories"): ALL,
    ("GET", "api.districts"): ALL,
    ("GET", "api.institutions"): ALL,
    ("GET", "api.institution"): ALL,
    ("GET", "api.openapi_document"): ALL,
    ("GET", "onboarding.privacy"): ALL,
    ("GET", "onboarding.guide"): ALL,
    ("GET", "onboarding.regulation"): ALL,
    ("GET", "pledges.verify"): ALL,
    ("GET", "pledges.verify_form"): ALL,
    ("GET", "onboarding.register"): ALL,
    ("GET", "auth.login"): ALL,
    ("POST", "auth.login"): dict.fromkeys(ROLES, 422),  # empty form: says what to fill in
    ("POST", "onboarding.register"): dict.fromkeys(ROLES, 422),
    ("POST", "auth.logout"): dict.fromkeys(ROLES, "/"),
    ("GET", "auth.notices"): {**ALL, "anon": "login"},
    ("POST", "auth.mark_notices_read"): {**dict.fromkeys(ROLES, "/notices"), "anon": "login"},
    ("GET", "files.download"): {**OWNER_AND_STAFF, "anon": "login"},
    ("GET", "pledges.pledge_pdf"): {**OWNER_AND_STAFF, "anon": 404},
    # The wizard: institution accounts only, each its own application.
    ("GET", "onboarding.start"): {**APPLICANT_ONLY, "inst_a": 200, "inst_b": "/onboarding/step/1"},
    ("GET", "onboarding.step"): {**APPLICANT_ONLY, "inst_a": "/onboarding", "inst_b": 200},
    ("POST", "onboarding.step"): {**APPLICANT_ONLY, "inst_a": "/onboarding", "inst_b": "/onboarding/step/1"},
    ("POST", "onboarding.check_field"): {**APPLICANT_ONLY, "inst_a": 200, "inst_b": 200},
    # Not reviewed on the summary (step 7) yet: sent back there.
    ("POST", "onboarding.sign"): {**APPLICANT_ONLY, "inst_a": "/onboarding", "inst_b": "/onboarding/step/7"},
    ("POST", "onboarding.submit"): {**APPLICANT_ONLY, "inst_a": 422, "inst_b": "/onboarding/step/7"},
    ("POST", "withdrawals.withdraw_application"): {
        **APPLICANT_ONLY,
        "inst_a": "/onboarding",
        "inst_b": "/onboarding",
    },
    ("POST", "withdrawals.request_withdrawal"): {**APPLICANT_ONLY, "inst_a": 404, "inst_b": 404},
    # Staff pages.
    ("GET", "review.index"): {
        **STAFF_ONLY,
        "operator": "/staff/applications",
        "authority": "/staff/applications",
        "admin": "/staff/applications",
    },
    ("GET", "review.applications"): STAFF_ONLY,
    ("GET", "review.application"): STAFF_ONLY,
    ("GET", "review.file"): STAFF_ONLY,
    ("GET", "review.view_file"): STAFF_ONLY,
    ("GET", "withdrawals.queue"): STAFF_ONLY,
    ("GET", "operations.calendar_page"): STAFF_ONLY,
    ("POST", "operations.calendar_page"): {**STAFF_ONLY, "operator": 422, "authority": 422, "admin": 422},
    # A stale version: every reviewer gets the conflict page, nobody changes anything.
    ("POST", "review.claim"): {**STAFF_ONLY, "operator": 409, "authority": 409, "admin": 409},
    ("POST", "review.act"): {**STAFF_ONLY, "operator": 409, "authority": 409, "admin": 409},
    # [转交]: the reviewers (the admin decides nothing, so takes nothing over); a stale version: 409.
    ("POST", "review.transfer"): {**STAFF_ONLY, "operator": 409, "authority": 409, "admin": 403},
    ("POST", "withdrawals.step"): {
        **STAFF_ONLY,
        "operator": "/staff/withdrawals",
        "authority": "/staff/withdrawals",
        "admin": "/staff/withdrawals",
    },
    ("GET", "operations.notification_problems"): STAFF_ONLY,
    ("POST", "operations.resolve_notification"): {
        **STAFF_ONLY,
        "operator": "/staff/notifications",
        "authority": "/staff/notifications",
        "admin": "/staff/notifications",
    },
    # Staff accounts: the admin only.
    # Consultations (Art. 14): enterprises ask; the institution that answers (inst_a owns the listed
    # one) and the enterprise write in the thread; staff read it; anyone else gets 404.
    ("GET", "consultations.consult"): {**NO_ONE_BUT("enterprise"), "enterprise": 200},
    ("POST", "consultations.consult"): {**NO_ONE_BUT("enterprise"), "enterprise": 422},  # empty question
    ("GET", "consultations.index"): {**STAFF_FORBIDDEN, "enterprise": 200, "inst_a": 200, "inst_b": 200},
    ("GET", "consultations.thread"): THREAD_READERS,
    ("GET", "consultations.messages"): THREAD_READERS,
    ("POST", "consultations.send"): {**THREAD_WRITERS, "enterprise": 422, "inst_a": 422},  # empty reply
    ("POST", "consultations.close"): {
        **THREAD_WRITERS,
        "enterprise": "/consultations/1",
        "inst_a": "/consultations/1",
    },
    ("GET", "consultations.workbench"): {
        **STAFF_FORBIDDEN,
        "enterprise": 403,
        "inst_a": 200,
        "inst_b": "/onboarding",
    },
    ("GET", "consultations.staff_figures"): STAFF_ONLY,
    # Deals and case reports: the world's consultation is already marked 已成交, with case report 1.
    ("POST", "consultations.deal"): {**STAFF_FORBIDDEN, "inst_b": 404, "inst_a": "/consultations/1"},
    ("POST", "consultations.deal_decision"): {**STAFF_FORBIDDEN, "enterprise": "/consultations/1"},
    ("GET", "consultations.my_cases"): {**STAFF_FORBIDDEN, "inst_b": 404, "inst_a": 200},
    ("GET", "consultations.case"): {**STAFF_FORBIDDEN, "inst_b": 404, "inst_a": 200},
    ("POST", "consultations.case"): {**STAFF_FORBIDDEN, "inst_b": 404, "inst_a": "/cases/1"},  # saved
    ("GET", "consultations.staff_cases"): STAFF_ONLY,
    ("GET", "consultations.staff_cases_export"): STAFF_ONLY,
    # Agents: the institution's own account manages them; agents set their password with a code.
    ("GET", "consultations.agents_page"): {**STAFF_FORBIDDEN, "inst_b": 404, "inst_a": 200},
    ("POST", "consultations.agents_page"): {**STAFF_FORBIDDEN, "inst_b": 404, "inst_a": 422},  # empty form
    ("POST", "consultations.agent_step"): {**STAFF_FORBIDDEN, "inst_b": 404, "inst_a": 404},  # no such step
    # Homepage upkeep (Art. 13): the institution's account; names and certificates through staff review.
    ("GET", "consultations.homepage"): {**STAFF_FORBIDDEN, "inst_b": 404, "inst_a": 200},
    ("POST", "consultations.homepage"): {**STAFF_FORBIDDEN, "inst_b": 404, "inst_a": 422},  # empty form
    ("POST", "consultations.propose_change"): {**STAFF_FORBIDDEN, "inst_b": 404, "inst_a": 422},  # no name
    ("GET", "consultations.staff_changes"): STAFF_ONLY,
    ("POST", "consultations.decide_change"): {  # a stale version: nobody changes anything
        **STAFF_ONLY,
        "operator": "/staff/changes",
        "authority": "/staff/changes",
        "admin": "/staff/changes",
    },
    # Supervision (Art. 12, 17): staff only; the act route knows no action called "request_info".
    ("GET", "supervision.institutions"): STAFF_ONLY,
    ("GET", "supervision.institution"): STAFF_ONLY,
    ("POST", "supervision.act"): {**STAFF_ONLY, "operator": 404, "authority": 404, "admin": 404},
    # Ratings (Art. 15): the world's consultation is still open (rating refused back to the thread) and
    # has a 1-star rating 1 waiting for the institution's follow-up.
    ("POST", "supervision.rate"): {**STAFF_FORBIDDEN, "enterprise": "/consultations/1#rating"},
    ("POST", "supervision.follow_up"): {
        **THREAD_READERS,
        "enterprise": "/consultations/1#rating",
        "inst_a": "/consultations/1#rating",
        "operator": "/staff/follow-ups",
        "authority": "/staff/follow-ups",
        "admin": "/staff/follow-ups",
    },
    ("POST", "supervision.verdict"): {**STAFF_FORBIDDEN, "enterprise": 400},  # no button pressed
    ("GET", "supervision.follow_ups"): STAFF_ONLY,
    # Complaints (Art. 15, 17): anyone logged in but staff and the institution itself; complaint 1 is
    # the enterprise's, still pending; staff check it.
    ("GET", "supervision.complain"): {**STAFF_FORBIDDEN, "enterprise": 200, "inst_b": 200, "inst_a": 404},
    ("POST", "supervision.complain"): {**STAFF_FORBIDDEN, "enterprise": 422, "inst_b": 422, "inst_a": 404},
    ("GET", "supervision.my_complaints"): {
        **dict.fromkeys(ROLES, 200),
        "anon": "login",
        "operator": "/staff/complaints",
        "authority": "/staff/complaints",
        "admin": "/staff/complaints",
    },
    ("GET", "supervision.complaint"): {**STAFF_ONLY, "enterprise": 200, "inst_a": 404, "inst_b": 404},
    ("POST", "supervision.verify_complaint"): {**STAFF_ONLY, "operator": 400, "authority": 400, "admin": 403},
    ("POST", "supervision.propose_expulsion"): {  # still pending: not yet 属实
        **STAFF_ONLY,
        "operator": 422,
        "authority": 422,
        "admin": 403,
    },
    ("POST", "supervision.refer_complaint"): {**STAFF_ONLY, "operator": 422, "authority": 422, "admin": 403},
    ("GET", "supervision.staff_complaints"): STAFF_ONLY,
    # Spot checks and credit records: the operator and the authority record them (an empty form: 422).
    ("POST", "supervision.add_spot_check"): {**STAFF_ONLY, "operator": 422, "authority": 422, "admin": 403},
    ("POST", "supervision.recheck"): {**STAFF_ONLY, "operator": 422, "authority": 422, "admin": 403},
    ("POST", "supervision.add_credit_record"): {
        **STAFF_ONLY,
        "operator": 422,
        "authority": 422,
        "admin": 403,
    },
    ("GET", "supervision.spot_checks"): STAFF_ONLY,
    # The 清退通知 of an expelled institution: anyone verifies it; its PDF for its account and staff.
    ("GET", "supervision.notice"): ALL,
    ("GET", "supervision.notice_pdf"): {
        **dict.fromkeys(ROLES, 404),
        "operator": 200,
        "authority": 200,
        "admin": 200,
    },
    # The annual assessment (Art. 16): staff read and print; the operator reviews, the authority decides;
    # the listed institution's own account sees its confirmed results. Assessment 1 is being reviewed.
    ("GET", "assessments.staff_list"): STAFF_ONLY,
    ("GET", "assessments.staff_sheet"): STAFF_ONLY,
    ("GET", "assessments.staff_pdf"): STAFF_ONLY,
    ("GET", "assessments.blank_pdf"): STAFF_ONLY,
    ("POST", "assessments.review"): {**NO_ONE_BUT("operator"), "operator": "/staff/assessments/1"},
    ("POST", "assessments.confirm"): {**NO_ONE_BUT("authority"), "authority": "/staff/assessments/1"},
    ("POST", "assessments.send_back"): {**NO_ONE_BUT("authority"), "authority": 422},  # not submitted
    ("GET", "assessments.verify"): ALL,
    ("GET", "assessments.overview_xlsx"): STAFF_ONLY,
    # 数据统计: every member of staff reads it and downloads its tables; the charts' stylesheet is public.
    ("GET", "statistics.index"): STAFF_ONLY,
    ("GET", "statistics.export_all"): STAFF_ONLY,
    ("GET", "statistics.export_one"): STAFF_ONLY,
    ("GET", "charts.charts_css"): ALL,
    # Batch printing: each press queues a job (the operator's job 1 is the world's); only its requester
    # follows it; its PDF exists once the worker has built it.
    ("POST", "assessments.print_batch"): {
        **STAFF_ONLY,
        "operator": "/staff/assessments/prints/2",
        "authority": "/staff/assessments/prints/3",
        "admin": "/staff/assessments/prints/4",
    },
    ("GET", "assessments.print_job"): {**STAFF_ONLY, "authority": 404, "admin": 404},
    ("GET", "assessments.print_job_pdf"): {**STAFF_ONLY, "operator": 404, "authority": 404, "admin": 404},
    ("GET", "assessments.workbench"): {**NO_ONE_BUT("inst_a"), "inst_a": 200, "inst_b": 404},
    ("POST", "assessments.upload_summary"): {**NO_ONE_BUT("inst_a"), "inst_a": 422, "inst_b": 404},
    ("GET", "assessments.own_pdf"): {**NO_ONE_BUT("inst_a"), "inst_a": 404, "inst_b": 404},  # unconfirmed
    ("GET", "auth.activate"): ALL,
    ("GET", "auth.forgot_password"): ALL,
    ("POST", "auth.forgot_password"): dict.fromkeys(ROLES, 422),
    ("GET", "auth.account"): {**ALL, "anon": "login"},
    ("POST", "auth.account"): {**dict.fromkeys(ROLES, 422), "anon": "login"},
    ("POST", "auth.activate"): dict.fromkeys(ROLES, 422),
    # WeChat (qzt.wechat) is not set up here: its doors lead to the login page; logged in, the landing.
    ("GET", "wechat.login"): {
        "anon": "login",
        "enterprise": "/consultations",
        "inst_b": "/workbench",
        "inst_a": "/workbench",
        "operator": "/staff/applications",
        "authority": "/staff/applications",
        "admin": "/staff/applications",
    },
    ("GET", "wechat.callback"): dict.fromkeys(ROLES, "login"),
    ("GET", "wechat.bind"): dict.fromkeys(ROLES, "login"),  # nobody came back from WeChat
    ("POST", "wechat.bind"): dict.fromkeys(ROLES, "login"),
    ("POST", "wechat.unbind"): {**dict.fromkeys(ROLES, "/account"), "anon": "login"},
    ("POST", "wechat.channels"): {**dict.fromkeys(ROLES, "/account"), "anon": "login"},
    ("GET", "auth.staff_users"): {**STAFF_ONLY, "operator": 403, "authority": 403},
    ("POST", "auth.staff_users"): {**STAFF_ONLY, "operator": 403, "authority": 403, "admin": 422},
    ("POST", "auth.toggle_staff"): {
        **STAFF_ONLY,
        "operator": 403,
        "authority": 403,
        "admin": "/staff/users",
    },
}


@pytest.fixture
def no_rate_limit():
    """Seven logins and then every route posted by each: more than one address may try in a minute.
    What is tested here is who may do what; the limit itself is tested in test_security."""
    limiter.enabled = False
    yield
    limiter.enabled = True


@pytest.fixture
def world(app, no_rate_limit, make_user, login_as, make_institution, make_application):
    """A client for each kind of visitor, logged in; A has a submitted, signed application and B a draft;
    a listed institution to leave."""
    users = {
        key: make_user(role, phone, name=key)
        for key, role, phone in [
            ("enterprise", Role.ENTERPRISE, "13700000001"),
            ("inst_a", Role.INSTITUTION, "13700000002"),
            ("inst_b", Role.INSTITUTION, "13700000003"),
            ("operator", Role.OPERATOR, "13700000004"),
            ("authority", Role.AUTHORITY, "13700000005"),
            ("admin", Role.ADMIN, "13700000006"),
        ]
    }
    clients = {"anon": app.test_client()} | {key: login_as(u.role, u.phone) for key, u in users.items()}
    licence = files.store_bytes(users["inst_a"], "licence", PDF, "licence.pdf")
    application = make_application(users["inst_a"], data=application_data(licence_file_id=licence.id))
    make_application(users["inst_b"], state=ApplicationState.DRAFT, signed=False, data=draft.empty())
    notice = Notification(
        user_id=users["inst_a"].id, kind="approved", title="t", body="b", phone="13700000002"
    )
    db.session.add(notice)
    listed = make_institution(
        "佛山市授权测试检测所", state=ListingState.LISTED, agents=[("李客服", "13812345678")]
    )
    listed.owner_id = users["inst_a"].id  # inst_a answers the listed institution's consultations
    withdrawal = WithdrawalRequest(institution_id=listed.id, letter_file_id=licence.id)
    db.session.add(withdrawal)
    db.session.commit()
    consultation = consultations.ask(listed, users["enterprise"], service_item_id=None, body="请问检测周期？")
    case = cases.mark_deal(consultation, users["inst_a"])
    change = homepage.propose_name(listed, users["inst_a"], "佛山市授权测试检测所（新名称）")
    rating = Rating(
        consultation=consultation,
        institution_id=listed.id,
        stars=1,
        follow_up=FollowUpState.OPEN,
        follow_up_due=date(2026, 3, 17),
    )
    db.session.add(rating)
    db.session.commit()
    complaint = complaints.file(
        listed,
        users["enterprise"],
        agent_id=None,
        body="客服答应回电却一直没有联系。",
        may_contact=False,
        evidence=[],
        today=date(2026, 3, 2),
    )
    check = checks.record_spot_check(
        listed,
        users["operator"],
        checked_on=date(2026, 1, 5),
        subject="主页资质",
        finding="证书过期",
        result="rectify",
        rectify_by=date(2026, 1, 20),
        files=[],
    )
    assessment = assessments.open_due(date(2026, 8, 1))[0]
    job = printing.request_batch(users["operator"], assessments.Filters())
    gone = make_institution("佛山市已清退检测所")
    letter = sanctions.expel(gone, users["authority"], "logo_misuse", "擅自使用平台标志", "")
    db.session.commit()
    values = {
        "institution_id": listed.id,
        "file_id": licence.id,
        "code": signing.latest(application).code,
        "application_id": application.id,
        "number": 1,
        "field": "uscc",
        "action": "request_info",
        "request_id": withdrawal.id,
        "user_id": users["operator"].id,
        "step": "settle",
        "filename": "css/site.css",
        "notification_id": notice.id,
        "consultation_id": consultation.id,
        "case_id": case.id,
        "agent_id": listed.agents[0].id,
        "kind": "name",
        "change_id": change.id,
        "rating_id": 1,
        "decision": "accept",
        "complaint_id": complaint.id,
        "check_id": check.id,
        "notice_code": letter.code,
        "assessment_id": assessment.id,
        "assessment_code": assessment.code,
        "cycle_number": 1,
        "job_id": job.id,
        "key": "consultations",
    }
    return {"clients": clients, "values": values}


def _outcome(response):
    if response.status_code in (301, 302, 303):
        location = response.headers["Location"]
        return "login" if location.startswith("/login") else location.split("?")[0]
    return response.status_code


@pytest.mark.parametrize("method, endpoint", sorted(MATRIX), ids=lambda v: v)
def test_route_access(app, world, method, endpoint):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    url = rule.build({k: world["values"][k] for k in rule.arguments}, append_unknown=False)[1]
    seen = {}
    for role in ROLES:
        client = world["clients"][role]
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(
                url, data={"csrf_token": csrf(client, "/privacy"), "version": "0", "action": "save"}
            )
        seen[role] = _outcome(response)
        response.close()
    assert seen == MATRIX[(method, endpoint)]


def test_every_route_has_a_row(app):
    routes = {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == set(MATRIX), "add the new route to MATRIX with the status each visitor should get"


HOSTILE_FORM = {
    "name": "名" * 10_000,
    "uscc": "\x00' OR 1=1 --",
    "q-count": "999999",
    "s-count": "-1",
    "a-count": "x",
    "s-0-category": "../../etc",
    "version": "abc",
    "deadline_days": "9" * 50,
    "visit_on": "2026-02-30",
    "message": "<script>alert(1)</script>",
    "day": "yesterday",
    "working": "2",
    "role": "admin",
    "phone": "1" * 50,
    "password": "",
    "confirm": "x",
    "resend": "maybe",
    "action": "remove-q-999",
    "signature": "data:image/png;base64,!!!!",
    "signer_name": "",
    "agree": "y",
    "reason": "退" * 5000,
    "note": "注" * 5000,
    "log": "x",
    "field": "uscc",
}
HOSTILE_QUERY = "?q=%00%FF&page=-1&per_page=x&category=%3Cb%3E&district=1&state=zzz&log_by=zz&mine=2"


@pytest.mark.parametrize("method, endpoint", sorted(MATRIX), ids=lambda v: v)
def test_hostile_input_never_causes_a_server_error(app, world, method, endpoint):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    url = rule.build({k: world["values"][k] for k in rule.arguments}, append_unknown=False)[1]
    for role in ROLES:
        client = world["clients"][role]
        if method == "GET":
            response = client.get(url + HOSTILE_QUERY)
        else:
            response = client.post(url, data={**HOSTILE_FORM, "csrf_token": csrf(client, "/privacy")})
        assert response.status_code < 500, (role, response.status_code)
        response.close()
