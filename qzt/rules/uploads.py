"""Uploaded files: only PDF, JPEG and PNG, recognised by their content, at most 10 MB each (Art. 10)."""

import filetype

MAX_BYTES = 10 * 1024 * 1024
ALLOWED = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
IMAGES = {"image/jpeg", "image/png"}


class UploadRejected(ValueError):
    """The message says what to fix."""


def sniff(head: bytes) -> str | None:
    """The MIME type the bytes really are, from their magic numbers; None when unknown."""
    kind = filetype.guess(head)
    return kind.mime if kind else None


def check(data: bytes, filename: str = "", images_only: bool = False) -> str:
    """The accepted MIME type of the upload, or UploadRejected with a Chinese message."""
    label = f"文件“{filename}”" if filename else "文件"
    if not data:
        raise UploadRejected(f"{label}是空文件，请重新选择")
    if len(data) > MAX_BYTES:
        size = len(data) / 1024 / 1024
        raise UploadRejected(f"{label}大小为{size:.1f}MB，超过10MB的上限，请压缩后重新上传")
    mime = sniff(data[:8192])
    allowed = IMAGES if images_only else ALLOWED
    if mime not in allowed:
        kinds = "JPG或PNG图片" if images_only else "PDF、JPG或PNG文件"
        raise UploadRejected(f"{label}不是有效的{kinds}（按文件内容识别，与文件名无关），请重新选择")
    return mime
