"""The regulation's own text (管理办法, 2023), word for word, as chapters, articles and annexes.

The text lives in qzt/data/regulation/ as the bureau published it (a Word document saved as text); like the
pledge, it is never edited: a new wording is a new file, and the newest file is the one shown. The parser
keeps every character and splits only where the document itself does: 第X章, 第X条, the closing clauses,
the signing date, the list of annexes and each 附件N. Annex 2's score sheet is a Word table saved as text:
each cell begins with a tab, a cell's paragraphs are one blank line apart, a row begins after a blank line.
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REGULATION_DIR = Path(__file__).resolve().parent.parent / "data" / "regulation"

NUMERALS = "一二三四五六七八九"
CHAPTER = re.compile(r"^第([一二三四五六七八九十]+)章\s+(\S.*)$")
ARTICLE = re.compile(r"^第([一二三四五六七八九十]+)条\s*(.*)$")
ANNEX = re.compile(r"^附件(\d+)$")
ANNEX_LIST = re.compile(r"^(?:附件：)?\s*(\d+)\.(.+)$")
SIGNED = re.compile(r"^\s*\d{4}年\d{1,2}月\d{1,2}日\s*$")
CLOSING = ("本管理办法", "本办法")  # the interpretation and entry-into-force clauses, unnumbered here


def chinese_number(text: str) -> int:
    """一 → 1, 十 → 10, 十三 → 13, 二十 → 20, 二十一 → 21 (the numbers of chapters and articles)."""
    if "十" not in text:
        return NUMERALS.index(text) + 1
    tens, _, units = text.partition("十")
    return (NUMERALS.index(tens) + 1 if tens else 1) * 10 + (NUMERALS.index(units) + 1 if units else 0)


@dataclass(frozen=True)
class Article:
    number: int
    label: str  # 第十三条
    paragraphs: tuple[str, ...]  # the first one follows the label on its line

    @property
    def anchor(self) -> str:
        return f"art-{self.number}"


@dataclass(frozen=True)
class Chapter:
    number: int
    label: str  # 第四章
    title: str  # 日常管理
    articles: tuple[Article, ...]

    @property
    def anchor(self) -> str:
        return f"chapter-{self.number}"


@dataclass(frozen=True)
class Table:
    """A table as the text gives it: the first row is the header; a row with fewer cells spans the width."""

    rows: tuple[tuple[str, ...], ...]  # a cell's paragraphs are joined by a line break

    @property
    def header(self) -> tuple[str, ...]:
        return self.rows[0]

    @property
    def body(self) -> tuple[tuple[str, ...], ...]:
        return self.rows[1:]

    @property
    def columns(self) -> int:
        return len(self.header)

    def spans(self, row: tuple[str, ...]) -> list[int]:
        """How many columns each cell of the row covers: the last cell takes what the others leave."""
        each = self.columns // len(row)
        return [each] * (len(row) - 1) + [self.columns - each * (len(row) - 1)]


@dataclass(frozen=True)
class Annex:
    number: int
    label: str  # 附件2
    title_lines: tuple[str, ...]  # as the annex sets its title, over one or more lines
    blocks: tuple[str | Table, ...]  # paragraphs (lines as written, spaces kept) and tables

    @property
    def title(self) -> str:
        return "".join(self.title_lines)

    @property
    def anchor(self) -> str:
        return f"annex-{self.number}"


@dataclass(frozen=True)
class Regulation:
    version: str
    label: str  # 附件1: the regulation was itself the first annex of the bureau's notice
    title_lines: tuple[str, ...]
    chapters: tuple[Chapter, ...]
    closing: tuple[str, ...]  # 本管理办法由…负责解释。 本办法自颁布之日起生效。
    signed: str  # the signing date's line, as written
    annex_list: tuple[tuple[int, str], ...]  # (1, title), (2, title): the list under the signature
    annexes: tuple[Annex, ...]

    @property
    def title(self) -> str:
        return "".join(self.title_lines)

    @property
    def articles(self) -> tuple[Article, ...]:
        return tuple(a for c in self.chapters for a in c.articles)

    def article(self, number: int) -> Article:
        return next(a for a in self.articles if a.number == number)


def parse(text: str, version: str = "") -> Regulation:
    """The regulation's text as chapters, articles and annexes; a text not shaped like the 2023 one is refused
    with ValueError naming what is missing."""
    lines = text.splitlines()
    annex_starts = [i for i, line in enumerate(lines) if ANNEX.match(line.strip())]
    first_chapter = next((i for i, line in enumerate(lines) if CHAPTER.match(line)), None)
    if first_chapter is None:
        raise ValueError("找不到第一章")
    head = [line.strip() for line in lines[:first_chapter] if line.strip()]
    label = head.pop(0) if head and ANNEX.match(head[0]) else ""
    annex_starts = [i for i in annex_starts if i > first_chapter]
    signed_at = next((i for i in range(first_chapter, len(lines)) if SIGNED.match(lines[i])), None)
    if signed_at is None:
        raise ValueError("找不到落款日期")
    chapters, closing = _body(lines[first_chapter:signed_at])
    end_of_list = annex_starts[0] if annex_starts else len(lines)
    annex_list = []
    for line in lines[signed_at + 1 : end_of_list]:
        if line.strip():
            found = ANNEX_LIST.match(line.strip())
            if not found:
                raise ValueError(f"附件目录无法识别：{line.strip()}")
            annex_list.append((int(found.group(1)), found.group(2)))
    titles = dict(annex_list)
    bounds = [*annex_starts, len(lines)]
    annexes = tuple(
        _annex(lines[start:stop], titles) for start, stop in zip(bounds, bounds[1:], strict=False)
    )
    return Regulation(
        version=version,
        label=label,
        title_lines=tuple(head),
        chapters=chapters,
        closing=closing,
        signed=lines[signed_at],
        annex_list=tuple(annex_list),
        annexes=annexes,
    )


def _body(lines: list[str]) -> tuple[tuple[Chapter, ...], tuple[str, ...]]:
    chapters: list[tuple[int, str, str, list]] = []
    closing: list[str] = []
    for line in (line for line in lines if line.strip()):
        if found := CHAPTER.match(line):
            chapters.append((chinese_number(found.group(1)), line.split()[0], found.group(2), []))
        elif found := ARTICLE.match(line):
            label = f"第{found.group(1)}条"
            chapters[-1][3].append((chinese_number(found.group(1)), label, [found.group(2)]))
        elif closing or line.startswith(CLOSING):
            closing.append(line)
        elif chapters and chapters[-1][3]:
            chapters[-1][3][-1][2].append(line)
        else:
            raise ValueError(f"条文之外的文字：{line}")
    built = tuple(
        Chapter(number, label, title, tuple(Article(n, lab, tuple(p)) for n, lab, p in articles))
        for number, label, title, articles in chapters
    )
    return built, tuple(closing)


def _annex(lines: list[str], titles: dict[int, str]) -> Annex:
    label = lines[0].strip()
    number = int(ANNEX.match(label).group(1))
    title = titles.get(number)
    if title is None:
        raise ValueError(f"{label}不在附件目录中")
    rest = lines[1:]
    title_lines: list[str] = []
    while "".join(title_lines) != title:
        if not rest:
            raise ValueError(f"{label}的标题不完整")
        line = rest.pop(0).strip()
        if line and not title.startswith("".join(title_lines) + line):
            raise ValueError(f"{label}的标题与附件目录不一致：{line}")
        if line:
            title_lines.append(line)
    blocks: list[str | Table] = []
    rows: list[list[list[str]]] = []
    blank = 0
    for line in rest:
        if not line.strip() and not line.startswith("\t"):
            blank += 1
            continue
        if line.startswith("\t"):
            if not rows or blank:
                rows.append([])
            rows[-1].append([line[1:]] if line[1:] else [])
        elif rows and blank == 1:
            rows[-1][-1].append(line)  # the cell's next paragraph
        else:
            if rows:
                blocks.append(_table(rows))
                rows = []
            blocks.append(line)
        blank = 0
    if rows:
        blocks.append(_table(rows))
    return Annex(number, label, tuple(title_lines), tuple(blocks))


def _table(rows: list[list[list[str]]]) -> Table:
    return Table(tuple(tuple("\n".join(cell) for cell in row) for row in rows))


@cache
def versions() -> dict[str, Regulation]:
    files = sorted(REGULATION_DIR.glob("*.txt"))
    return {f.stem: parse(f.read_text(encoding="utf-8"), f.stem) for f in files}


def current() -> Regulation:
    return versions()[max(versions())]
