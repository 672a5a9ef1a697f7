"""Where uploaded bytes live: a small interface and its two implementations, LocalStorage (a folder,
by default instance/uploads) and S3Storage (qzt.core.s3: Alibaba Cloud OSS, MinIO, any S3-compatible
service), chosen by QZT_STORAGE_URL when the app is made (open_storage).

Keys are random (secrets.token_hex(16) and the file's extension), made once by put and never reused;
stored bytes are never changed or deleted. Backup and restore (qzt.core.backup) move the bytes between
a storage and a backup folder under the same keys: keys() lists them, put_as() stores one back.
"""

import os
import re
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

STORAGE_URL = "QZT_STORAGE_URL"
# What put makes: 32 hex digits, a dot, the extension (uploads.ALLOWED). Anything else in the storage
# (a half-written .part file, a stranger's object under the prefix) is not a stored upload.
KEY = re.compile(r"[0-9a-f]{32}\.[a-z0-9]{1,10}")


class Storage(Protocol):
    """put returns only once the bytes are stored durably; get of a key not stored raises KeyError."""

    @property
    def location(self) -> str: ...

    def put(self, data: bytes, extension: str) -> str: ...

    def put_as(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def keys(self) -> Iterator[str]: ...


def new_key(extension: str) -> str:
    return f"{secrets.token_hex(16)}.{extension}"


def valid_key(key: str) -> bool:
    """A key is a name of its own: never a path out of the storage's folder or prefix."""
    return bool(key) and "/" not in key and "\\" not in key and ".." not in key


def check_key(key: str) -> str:
    if not valid_key(key):
        raise KeyError(key)
    return key


class LocalStorage:
    """Files under a root directory (outside static/), in two-level folders, under generated names."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    @property
    def location(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes, extension: str) -> str:
        key = new_key(extension)
        self.put_as(key, data)
        return key

    def put_as(self, key: str, data: bytes) -> None:
        """Store the bytes durably: when this returns (and the request answers "saved"), the file, its
        name and any folder made for it are on disk, fsynced, and survive a crash or a power cut."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)  # never a half-written file under a real key
        # The new name, and the folders' own entries (made now, or by a put running beside this one;
        # a folder with nothing new to write costs next to nothing).
        for folder in (path.parent, path.parent.parent, self.root, self.root.parent):
            fsync_directory(folder)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None  # as S3Storage says it: callers need not know which

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def keys(self) -> Iterator[str]:
        """Every stored key, in no particular order; files mid-write (.part) are not stored yet."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("*/*/*"):
            if KEY.fullmatch(path.name) and path == self._path(path.name) and path.is_file():
                yield path.name


def fsync_directory(folder: Path) -> None:
    """Make a directory's entries (a file renamed or created in it) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_storage(settings: Mapping, default_root: str | Path) -> Storage:
    """The storage QZT_STORAGE_URL names: unset, LocalStorage in `default_root`; file:///absolute/path,
    LocalStorage there; s3://bucket/prefix, S3Storage with the QZT_S3_* settings. A wrong value raises
    ValueError naming the setting, so that the app refuses to start rather than fail the first upload."""
    url = (settings.get(STORAGE_URL) or "").strip()
    if not url:
        return LocalStorage(default_root)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        return LocalStorage(_local_root(url))
    if scheme == "s3":
        from qzt.core import s3  # boto3 takes a third of a second to import: only when it is used

        return s3.from_url(url, settings)
    raise ValueError(f"{STORAGE_URL}={url!r}: expected file:///absolute/path or s3://bucket/prefix")


def _local_root(url: str) -> Path:
    parts = urlsplit(url)
    path = unquote(parts.path)
    if parts.netloc not in ("", "localhost") or not path.startswith("/") or parts.query or parts.fragment:
        raise ValueError(f"{STORAGE_URL}={url!r}: a folder is given as file:///absolute/path")
    return Path(path)
