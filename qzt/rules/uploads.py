"""Uploaded files: only PDF, JPEG and PNG, recognised by their content, at most 10 MB each (Art. 10).

Beyond the type, the content itself is checked: images by their dimensions (read from the header, before
any pixel is decoded), PDFs for scripts, actions that start programs or open other files, and embedded
files. Names are cleaned for display and given the extension of the type found."""

import io
import re
import struct
import unicodedata
import warnings

import filetype
import pikepdf
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
ALLOWED = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
IMAGES = {"image/jpeg", "image/png"}
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}

# The file inputs' `accept`: the types above, named exactly rather than as image/*. iOS (Safari and
# WeChat's WKWebView) offers 照片图库/拍照/选取文件 for any image type and converts a HEIC photo into
# one the list names; with image/* it sends HEIC, which the check below refuses. Android's WeChat hands
# the list to its own chooser, which offers the camera and album when an image type is listed and the
# file manager for PDFs. Never `capture`: it opens the camera alone, hiding the album and the files.
ACCEPT = ",".join(ALLOWED)
IMAGE_ACCEPT = ",".join(sorted(IMAGES))

# Largest width × height in pixels. The drawn signature comes from a 600×200 canvas; a bigger one only
# slows every pledge PDF that shows it.
IMAGE_MAX = (8000, 8000)
SIGNATURE_MAX = (2000, 1000)

# A PDF's objects are walked once, counting the entries of each dictionary and array: a crafted 10 MB
# file of tiny objects would otherwise keep a worker busy for seconds. A 640-page text report has about
# 38 000 entries; a scan, a few per page.
MAX_PDF_ENTRIES = 100_000
NAME_MAX_CHARS = 100


class UploadRejected(ValueError):
    """The message says what to fix."""


def sniff(head: bytes) -> str | None:
    """The MIME type the bytes really are, from their magic numbers; None when unknown."""
    kind = filetype.guess(head)
    return kind.mime if kind else None


def check(
    data: bytes, filename: str = "", images_only: bool = False, max_size: tuple[int, int] = IMAGE_MAX
) -> str:
    """The accepted MIME type of the upload, or UploadRejected with a Chinese message. Images may be at
    most `max_size` (width, height) pixels."""
    shown = clean_name(filename)
    label = f"文件“{shown}”" if shown else "文件"
    if not data:
        raise UploadRejected(f"{label}是空文件，请重新选择")
    if len(data) > MAX_BYTES:  # callers read no more than MAX_BYTES + 1: the real size is not known
        raise UploadRejected(f"{label}超过10MB的上限，请压缩后重新上传")
    mime = sniff(data[:8192])
    allowed = IMAGES if images_only else ALLOWED
    if mime not in allowed:
        kinds = "JPG或PNG图片" if images_only else "PDF、JPG或PNG文件"
        raise UploadRejected(f"{label}不是有效的{kinds}（按文件内容识别，与文件名无关），请重新选择")
    problem = pdf_problem(data) if mime == "application/pdf" else image_problem(data, mime, max_size)
    if problem:
        raise UploadRejected(f"{label}{problem}")
    return mime


# --- images ---


def image_problem(data: bytes, mime: str, max_size: tuple[int, int] = IMAGE_MAX) -> str | None:
    """What is wrong with the image, judged from its header and chunk checksums without decoding it."""
    max_width, max_height = max_size
    unreadable = "已损坏或不完整，无法识别为图片，请重新导出后上传"
    try:
        # Pillow's own limit (Image.MAX_IMAGE_PIXELS) still applies: beyond twice it, open() refuses.
        # Below that it only warns; the exact size is checked here, so the warning is noise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[mime]]) as image:
                width, height = image.size
                if width > max_width or height > max_height:
                    return _too_large(f"为{width}×{height}像素", max_size)
                if width < 1 or height < 1:
                    return unreadable
                image.verify()  # chunk checksums and the end of the file; no pixel is decoded
    except Image.DecompressionBombError:
        return _too_large("过大", max_size)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error):
        return unreadable
    return None


def _too_large(size: str, max_size: tuple[int, int]) -> str:
    return f"的图片尺寸{size}，超过{max_size[0]}×{max_size[1]}像素的上限，请缩小后重新上传"


# --- PDFs ---

SCRIPTS = "含有脚本或自动执行的动作，出于安全原因不能接受，请另存为普通PDF（如“打印为PDF”）后重新上传"
LAUNCHES = (
    "含有启动程序、打开其他文件或提交数据的动作，出于安全原因不能接受，"
    "请另存为普通PDF（如“打印为PDF”）后重新上传"
)
EMBEDS = "含有附件或嵌入的文件，出于安全原因不能接受，请删除附件或另存为普通PDF后重新上传"

# Keys that only exist to run something: JavaScript (/JS, the /JavaScript name tree), additional actions
# fired by events (/AA), XFA forms (which carry scripts).
SCRIPT_KEYS = frozenset({"/JS", "/JavaScript", "/AA", "/XFA"})
SCRIPT_ACTIONS = frozenset({"/JavaScript", "/Rendition", "/RichMediaExecute"})
# Actions that reach outside the document; a remote path here leaks the reader's Windows credentials.
LAUNCH_ACTIONS = frozenset({"/Launch", "/GoToR", "/GoToE", "/ImportData", "/SubmitForm"})
LAUNCH_KEYS = frozenset({"/Win"})
EMBED_KEYS = frozenset({"/EmbeddedFiles", "/EF", "/Collection", "/RichMediaContent"})
EMBED_TYPES = frozenset({"/EmbeddedFile"})
EMBED_SUBTYPES = frozenset({"/FileAttachment", "/RichMedia"})
SCRIPT_SUBTYPES = frozenset({"/3D"})  # 3D artwork runs its own JavaScript
WEB_SCHEMES = ("http://", "https://", "mailto:")


def pdf_problem(data: bytes) -> str | None:
    """What makes the PDF unacceptable, or None. Unreadable, password-protected and truncated files are
    refused; so is anything that runs or launches something, or carries other files."""
    if b"%%EOF" not in data[-1024:]:
        return "不完整（文件末尾缺少结束标记，可能未下载或保存完整），请重新导出后上传"
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) < 1:
                return "没有任何页面，请检查后重新上传"
            return _walk(pdf)
    except pikepdf.PasswordError:
        return "设有打开密码，请取消密码后重新上传"
    except (pikepdf.PdfError, RuntimeError, ValueError, TypeError, KeyError, IndexError, OverflowError):
        return "已损坏或无法读取，请重新导出为PDF后上传"


def _walk(pdf: pikepdf.Pdf) -> str | None:
    """Every object a reader can reach from the trailer, each looked at once. Iterative, since nesting
    is the attacker's to choose; bounded by the entries looked at, since so is the number of objects."""
    seen: set[tuple[int, int]] = set()
    stack = [pdf.trailer]
    budget = MAX_PDF_ENTRIES
    while stack:
        obj = stack.pop()
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        is_array = isinstance(obj, pikepdf.Array)
        budget -= 1 + (len(obj) if is_array else len(obj.keys()))
        if budget < 0:
            return "结构过于复杂（对象数量过多），请拆分文件或另存为普通PDF（如“打印为PDF”）后重新上传"
        if is_array:
            stack.extend(item for item in obj if isinstance(item, CONTAINERS))
        else:
            entries = dict(obj.items())
            problem = _dictionary_problem(entries)
            if problem:
                return problem
            stack.extend(value for value in entries.values() if isinstance(value, CONTAINERS))
    return None


# pikepdf hands numbers, booleans and null back as Python values; these are the only objects to descend.
CONTAINERS = (pikepdf.Array, pikepdf.Dictionary, pikepdf.Stream)


def _dictionary_problem(entries: dict) -> str | None:
    action, kind, subtype = (_name(entries.get(key)) for key in ("/S", "/Type", "/Subtype"))
    if entries.keys() & SCRIPT_KEYS or action in SCRIPT_ACTIONS or subtype in SCRIPT_SUBTYPES:
        return SCRIPTS
    if "/OpenAction" in entries and not _is_plain_destination(entries["/OpenAction"]):
        return SCRIPTS
    if entries.keys() & LAUNCH_KEYS or action in LAUNCH_ACTIONS:
        return LAUNCHES
    if action == "/URI" and not _is_web_link(entries.get("/URI")):
        return LAUNCHES
    if entries.keys() & EMBED_KEYS or kind in EMBED_TYPES or subtype in EMBED_SUBTYPES:
        return EMBEDS
    return None


def _name(value) -> str | None:
    return str(value) if isinstance(value, pikepdf.Name) else None


def _is_plain_destination(action) -> bool:
    """An /OpenAction that only opens the document at a page (what most PDF writers put there)."""
    if isinstance(action, pikepdf.Dictionary):
        return _name(action.get("/S")) == "/GoTo"
    return not isinstance(action, pikepdf.Stream)


def _is_web_link(uri) -> bool:
    if not isinstance(uri, pikepdf.String):
        return False
    return bytes(uri).decode("latin-1").strip().lower().startswith(WEB_SCHEMES)


# --- names ---

# Characters Windows refuses in names; whitespace of any kind becomes one space.
RESERVED = re.compile(r'[<>:"|?*]')
SPACES = re.compile(r"\s+")


def clean_name(filename: str) -> str:
    """The last part of the path as typed, without control, format (bidi overrides such as U+202E),
    private-use or unassigned characters, nor line separators."""
    text = SPACES.sub(" ", unicodedata.normalize("NFKC", filename or ""))
    text = "".join(c for c in text if not _is_invisible(c))
    text = re.split(r"[/\\]", text)[-1]
    return RESERVED.sub("_", text).strip(" .")


def _is_invisible(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] == "C" or category in ("Zl", "Zp")


def display_name(filename: str, mime: str) -> str:
    """The name a stored file is shown and offered under: clean_name() with the extension of the type
    its content is (`x.html` holding a PNG is `x.png`); 文件.pdf and the like when nothing is left."""
    extension = ALLOWED[mime]
    stem = clean_name(filename)
    if "." in stem:
        stem = stem.rsplit(".", 1)[0].rstrip(" .")
    stem = stem[: NAME_MAX_CHARS - len(extension) - 1].rstrip(" .")
    return f"{stem or '文件'}.{extension}"
