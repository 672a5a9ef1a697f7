"""Where uploaded bytes live: a small interface, a local-directory implementation under instance/.

Object storage can replace LocalStorage later by implementing the same three methods.
"""

import os
import secrets
from pathlib import Path
from typing import Protocol


class Storage(Protocol):
    def put(self, data: bytes, extension: str) -> str: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...


class LocalStorage:
    """Files under a root directory (outside static/), in two-level folders, under generated names."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not key or "/" in key or ".." in key:
            raise KeyError(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes, extension: str) -> str:
        """Store the bytes durably: when put returns (and the request answers "saved"), the file, its
        name and any folder made for it are on disk, fsynced, and survive a crash or a power cut."""
        key = f"{secrets.token_hex(16)}.{extension}"
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
        return key

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()


def fsync_directory(folder: Path) -> None:
    """Make a directory's entries (a file renamed or created in it) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
