"""Versions of the pledge text (承诺书, Annex 1), kept as files under qzt/data/pledges/.

A version's name is its file name (e.g. 2023-03); the newest name is the current version. A
signature binds the SHA-256 of its version's exact bytes, so the text files must never be edited:
a change of wording is a new file.
"""

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PLEDGE_DIR = Path(__file__).resolve().parent.parent / "data" / "pledges"


@dataclass(frozen=True)
class PledgeText:
    version: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def title(self) -> str:
        return self.text.splitlines()[0]

    @property
    def preamble(self) -> str:
        return self.text.splitlines()[1]

    @property
    def articles(self) -> list[str]:
        """The eight numbered articles."""
        return self.text.splitlines()[2:-1]

    @property
    def closing(self) -> str:
        return self.text.splitlines()[-1]


@cache
def versions() -> dict[str, PledgeText]:
    files = sorted(PLEDGE_DIR.glob("*.txt"))
    return {f.stem: PledgeText(f.stem, f.read_text(encoding="utf-8")) for f in files}


def get(version: str) -> PledgeText | None:
    return versions().get(version)


def current() -> PledgeText:
    return versions()[max(versions())]
