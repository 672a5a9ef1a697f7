"""Walking the onboarding wizard through the test client, step by step."""

import io
import re
from datetime import timedelta

import pikepdf
from factories import BASIC, PASSWORD
from PIL import Image
from shared_fixtures import csrf, sms_code

from qzt.core import clock


def real_pdf() -> bytes:
    """A well-formed one-page A4 PDF: uploads are parsed, so bytes that only look like one are refused."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def pdf_of_size(total: int) -> bytes:
    """A well-formed PDF of exactly `total` bytes, its one page's content stream padded with spaces."""
    padding = 0
    for _ in range(5):  # the stream's /Length grows by a digit or two; a couple of rounds settle it
        pdf = pikepdf.new()
        pdf.add_blank_page(page_size=(595, 842))
        pdf.pages[0].Contents = pdf.make_stream(b" " * padding)
        out = io.BytesIO()
        pdf.save(out, compress_streams=False, deterministic_id=True)
        if len(out.getvalue()) == total:
            return out.getvalue()
        padding += total - len(out.getvalue())
    raise AssertionError(f"no PDF of {total} bytes")


def real_png(size: tuple[int, int] = (120, 80)) -> bytes:
    return _image(size, "PNG")


def real_jpeg(size: tuple[int, int] = (120, 80)) -> bytes:
    return _image(size, "JPEG")


def _image(size: tuple[int, int], kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 170)).save(out, kind)
    return out.getvalue()


PDF = real_pdf()
PNG = real_png()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
NEXT_YEAR = (clock.today() + timedelta(days=365)).isoformat()


def register(client, phone="13600000001", password=PASSWORD):
    code = sms_code(client, "/register", phone)
    t = csrf(client, "/register")
    return client.post(
        "/register",
        data={
            "kind": "institution",
            "phone": phone,
            "code": code,
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


def review(client):
    """[确认无误，下一步] on the summary step, with the digest of the data the page showed."""
    html = client.get("/onboarding/step/7").get_data(as_text=True)
    return client.post(
        "/onboarding/step/7",
        data={
            "action": "next",
            "reviewed": hidden(html, "reviewed"),
            "csrf_token": hidden(html, "csrf_token"),
        },
    )


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
        rf'type="hidden" name="{name}" value="([^"]*)"', html
    )
    assert match, f"no hidden {name}"
    return match.group(1)


def sign(client, password=PASSWORD, name="张三", signature="", reviewed=True):
    """[签署承诺书] on the pledge step; first, while the wizard is open, [确认无误，下一步] on the summary
    (a listed institution signing a new version has nothing to review)."""
    if reviewed and client.get("/onboarding/step/7").status_code == 200:
        assert review(client).status_code == 302, "the summary refused: the application is incomplete"
    html = client.get("/onboarding/step/8").get_data(as_text=True)
    return client.post(
        "/onboarding/sign",
        data={
            "signer_name": name,
            "password": password,
            "agree": "y",
            "signature": signature,
            "reviewed": hidden(html, "reviewed"),
            "csrf_token": hidden(html, "csrf_token"),
        },
    )


def fill_steps(client):
    """Steps 1–6 filled as a typical inspection body (step 5 不适用)."""
    assert post_step(client, 1, BASIC).status_code == 302
    assert (
        post_step(client, 2, {"licence": (io.BytesIO(PDF), "licence.pdf"), **qualification()}).status_code
        == 302
    )
    assert post_step(client, 3, services()).status_code == 302
    assert post_step(client, 4, agents()).status_code == 302
    assert post_step(client, 6, DECLARATIONS).status_code == 302


def fill_everything(client):
    """Steps 1–6 filled, reviewed on the summary (step 7) and the pledge signed (step 8)."""
    fill_steps(client)
    assert sign(client).status_code == 302


def submit(client):
    html = client.get("/onboarding/step/8").get_data(as_text=True)
    reviewed = re.search(r'name="reviewed" type="hidden" value="([^"]*)"', html)
    t = csrf(client, "/onboarding/step/8")
    return client.post(
        "/onboarding/submit", data={"csrf_token": t, "reviewed": reviewed.group(1) if reviewed else ""}
    )
