"""Walking the onboarding wizard through the test client, step by step."""

import io
from datetime import timedelta

from factories import BASIC, PASSWORD
from shared_fixtures import csrf

from qzt.core import clock

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
NEXT_YEAR = (clock.today() + timedelta(days=365)).isoformat()


def register(client, phone="13600000001", password=PASSWORD):
    t = csrf(client, "/register")
    return client.post(
        "/register",
        data={
            "kind": "institution",
            "phone": phone,
            "password": password,
            "confirm": password,
            "consent": "y",
            "csrf_token": t,
        },
    )


def post_step(client, number: int, fields: dict, action="next"):
    t = csrf(client, f"/onboarding/step/{number}")
    response = client.post(
        f"/onboarding/step/{number}",
        data={**fields, "action": action, "csrf_token": t},
        content_type="multipart/form-data",
    )
    # werkzeug's test client spools large bodies to a temporary file and leaves it open.
    response.request.environ["wsgi.input"].close()
    return response


def qualification(valid_until=NEXT_YEAR):
    return {
        "q-count": "1",
        "q-0-name": "检验检测机构资质认定证书",
        "q-0-number": "2019190000",
        "q-0-issuer": "广东省市场监督管理局",
        "q-0-valid_until": valid_until,
        "q-0-file": (io.BytesIO(PDF), "cma.pdf"),
    }


def services(featured=2, category="inspection", extra=1):
    fields = {"s-count": str(featured + extra)}
    for i in range(featured + extra):
        fields |= {
            f"s-{i}-category": category,
            f"s-{i}-title": f"家电检测项目{i}",
            f"s-{i}-content": "安规、能效",
        }
        if i < featured:
            fields[f"s-{i}-featured"] = "y"
    return fields


def agents(n=1):
    fields = {"a-count": str(n)}
    for i in range(n):
        fields |= {
            f"a-{i}-name": f"客服{i}",
            f"a-{i}-phone": f"1390000100{i}",
            f"a-{i}-hours": "工作日 8:00-18:00",
        }
    return fields


DECLARATIONS = {
    "independent_legal_person": "y",
    "no_violation": "y",
    "not_abnormal": "y",
    "not_dishonest": "y",
}


def sign(client, password=PASSWORD, name="张三", signature=""):
    t = csrf(client, "/onboarding/step/7")
    return client.post(
        "/onboarding/sign",
        data={
            "signer_name": name,
            "password": password,
            "agree": "y",
            "signature": signature,
            "csrf_token": t,
        },
    )


def fill_everything(client):
    """Steps 1–6 filled as a typical inspection body (no step 5), then the pledge signed."""
    assert post_step(client, 1, BASIC).status_code == 302
    assert (
        post_step(client, 2, {"licence": (io.BytesIO(PDF), "licence.pdf"), **qualification()}).status_code
        == 302
    )
    assert post_step(client, 3, services()).status_code == 302
    assert post_step(client, 4, agents()).status_code == 302
    assert post_step(client, 6, DECLARATIONS).status_code == 302
    assert sign(client).status_code == 302


def submit(client):
    t = csrf(client, "/onboarding/step/8")
    return client.post("/onboarding/submit", data={"csrf_token": t})
