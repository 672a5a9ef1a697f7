"""Who may open what: every route of app.url_map, for every kind of visitor (Art. 3, 10–12).

A route added without a row here fails test_every_route_has_a_row. Statuses are exact: "login" is a
redirect to /login; other redirects give their target path.
"""

import pytest
from conftest import PASSWORD
from onboarding_helpers import BASIC, PDF

from qzt.core import files
from qzt.extensions import db
from qzt.models import (
    Application,
    ApplicationState,
    ListingState,
    Notification,
    Role,
    User,
    WithdrawalRequest,
)
from qzt.onboarding import draft
from qzt.pledges import signing

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


def row(**statuses):
    return statuses


MATRIX = {
    ("GET", "static"): ALL,
    ("GET", "healthz"): ALL,
    ("GET", "directory.home"): ALL,
    ("GET", "directory.listing"): ALL,
    ("GET", "directory.institution"): ALL,
    ("GET", "api.categories"): ALL,
    ("GET", "api.districts"): ALL,
    ("GET", "api.institutions"): ALL,
    ("GET", "api.institution"): ALL,
    ("GET", "api.openapi_document"): ALL,
    ("GET", "onboarding.privacy"): ALL,
    ("GET", "pledges.verify"): ALL,
    ("GET", "onboarding.register"): ALL,
    ("GET", "auth.login"): ALL,
    ("POST", "auth.login"): dict.fromkeys(ROLES, 422),  # empty form: says what to fill in
    ("POST", "onboarding.register"): dict.fromkeys(ROLES, 422),
    ("POST", "auth.logout"): dict.fromkeys(ROLES, "/"),
    ("GET", "auth.notices"): {**ALL, "anon": "login"},
    ("POST", "auth.mark_notices_read"): {**dict.fromkeys(ROLES, "/notices"), "anon": "login"},
    # Files and the signed pledge: the owner and staff; anyone else gets 404 (never "it exists").
    ("GET", "files.download"): {
        "anon": "login",
        "enterprise": 404,
        "inst_b": 404,
        "inst_a": 200,
        "operator": 200,
        "authority": 200,
        "admin": 200,
    },
    ("GET", "pledges.pledge_pdf"): {
        "anon": 404,
        "enterprise": 404,
        "inst_b": 404,
        "inst_a": 200,
        "operator": 200,
        "authority": 200,
        "admin": 200,
    },
    # The wizard: institution accounts only, each its own application.
    ("GET", "onboarding.start"): {**APPLICANT_ONLY, "inst_a": 200, "inst_b": "/onboarding/step/1"},
    ("GET", "onboarding.step"): {**APPLICANT_ONLY, "inst_a": "/onboarding", "inst_b": 200},
    ("POST", "onboarding.step"): {**APPLICANT_ONLY, "inst_a": "/onboarding", "inst_b": "/onboarding/step/1"},
    ("POST", "onboarding.check_field"): {**APPLICANT_ONLY, "inst_a": 200, "inst_b": 200},
    ("POST", "onboarding.sign"): {**APPLICANT_ONLY, "inst_a": "/onboarding", "inst_b": 422},
    ("POST", "onboarding.submit"): {**APPLICANT_ONLY, "inst_a": 422, "inst_b": 422},
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
    ("GET", "withdrawals.queue"): STAFF_ONLY,
    ("GET", "operations.calendar_page"): STAFF_ONLY,
    ("POST", "operations.calendar_page"): {**STAFF_ONLY, "operator": 422, "authority": 422, "admin": 422},
    # A stale version: every reviewer gets the conflict page, nobody changes anything.
    ("POST", "review.claim"): {**STAFF_ONLY, "operator": 409, "authority": 409, "admin": 409},
    ("POST", "review.act"): {**STAFF_ONLY, "operator": 409, "authority": 409, "admin": 409},
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
def world(app, make_institution):
    """One of each kind of user; A has a submitted, signed application; a listed institution to leave."""
    users = {}
    for key, role, phone in [
        ("enterprise", Role.ENTERPRISE, "13700000001"),
        ("inst_a", Role.INSTITUTION, "13700000002"),
        ("inst_b", Role.INSTITUTION, "13700000003"),
        ("operator", Role.OPERATOR, "13700000004"),
        ("authority", Role.AUTHORITY, "13700000005"),
        ("admin", Role.ADMIN, "13700000006"),
    ]:
        user = User(role=role, phone=phone, name=key)
        user.set_password(PASSWORD)
        db.session.add(user)
        users[key] = user
    db.session.flush()
    licence = files.store_bytes(users["inst_a"], "licence", PDF, "licence.pdf")
    data = draft.empty()
    data["basic"] = dict(BASIC)
    data["licence_file_id"] = licence.id
    application = Application(applicant_id=users["inst_a"].id, data=data, state=ApplicationState.SUBMITTED)
    application.sync_summary()
    db.session.add(application)
    db.session.add(Application(applicant_id=users["inst_b"].id, data=draft.empty()))
    db.session.flush()
    signature = signing.sign(
        application,
        users["inst_a"],
        typed_name="张三",
        password=PASSWORD,
        agreed=True,
        drawing=None,
        ip="127.0.0.1",
        user_agent="pytest",
    )
    notice = Notification(
        user_id=users["inst_a"].id, kind="approved", title="t", body="b", phone="13700000002"
    )
    db.session.add(notice)
    listed = make_institution("佛山市授权测试检测所", state=ListingState.LISTED)
    withdrawal = WithdrawalRequest(institution_id=listed.id, letter_file_id=licence.id)
    db.session.add(withdrawal)
    db.session.commit()
    values = {
        "institution_id": listed.id,
        "file_id": licence.id,
        "code": signature.code,
        "application_id": application.id,
        "number": 1,
        "field": "uscc",
        "action": "request_info",
        "request_id": withdrawal.id,
        "user_id": users["operator"].id,
        "step": "settle",
        "filename": "css/site.css",
        "notification_id": notice.id,
    }
    return {"users": {k: u.id for k, u in users.items()}, "values": values}


def _client_as(app, role: str, world):
    client = app.test_client()
    if role != "anon":
        with client.session_transaction() as session:
            session["_user_id"] = str(world["users"][role])
            session["_fresh"] = True
    return client


def _outcome(response):
    if response.status_code in (301, 302, 303):
        location = response.headers["Location"]
        return "login" if location.startswith("/login") else location.split("?")[0]
    return response.status_code


def _token(client) -> str:
    import re

    html = client.get("/privacy").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


@pytest.mark.parametrize("method, endpoint", sorted(MATRIX), ids=lambda v: v)
def test_route_access(app, world, method, endpoint):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    url = rule.build({k: world["values"][k] for k in rule.arguments}, append_unknown=False)[1]
    seen = {}
    for role in ROLES:
        client = _client_as(app, role, world)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": _token(client), "version": "0", "action": "save"})
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
        client = _client_as(app, role, world)
        if method == "GET":
            response = client.get(url + HOSTILE_QUERY)
        else:
            response = client.post(url, data={**HOSTILE_FORM, "csrf_token": _token(client)})
        assert response.status_code < 500, (role, response.status_code)
        response.close()
