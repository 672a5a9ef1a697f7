"""The regulation as a page of its own (issue 15, footer): the text kept word for word as chapters, articles
and annexes (parsed without an app), shown at /regulation with its contents and an anchor per article, and
linked from the footer and from the guide's article references."""

import re

import pytest

from qzt.data import score_sheet
from qzt.pledges import texts
from qzt.rules import regulation
from qzt.rules.regulation import Table, chinese_number, parse

SOURCE = (regulation.REGULATION_DIR / "2023-03.txt").read_text(encoding="utf-8")
REGULATION = regulation.current()
ARTICLE_LABELS = [
    "第一条", "第二条", "第三条", "第四条", "第五条", "第六条", "第七条", "第八条", "第九条",
    "第十条", "第十一条", "第十二条", "第十三条", "第十四条", "第十五条", "第十六条", "第十七条", "第十八条",
]  # fmt: skip


def squeeze(text: str) -> str:
    return re.sub(r"\s", "", text)


def everything_in_order(reg) -> str:
    """Every piece of text the parse holds, in the order the page shows it."""
    pieces = [reg.label, *reg.title_lines]
    for chapter in reg.chapters:
        pieces += [chapter.label, chapter.title]
        for article in chapter.articles:
            pieces += [article.label, *article.paragraphs]
    pieces += [*reg.closing, reg.signed, "附件："]
    pieces += [f"{number}.{title}" for number, title in reg.annex_list]
    for annex in reg.annexes:
        pieces += [annex.label, *annex.title_lines]
        for block in annex.blocks:
            pieces += [cell for row in block.rows for cell in row] if isinstance(block, Table) else [block]
    return "".join(pieces)


# --- the text, parsed (no app) ---


def test_the_parse_keeps_every_character_of_the_text_in_order():
    assert squeeze(everything_in_order(REGULATION)) == squeeze(SOURCE)


def test_the_regulation_has_its_title_five_chapters_and_eighteen_articles_in_order():
    assert REGULATION.title == "佛山市质量基础设施“一站式”服务线上平台机构入驻及服务管理办法"
    assert [(c.label, c.title) for c in REGULATION.chapters] == [
        ("第一章", "总则"),
        ("第二章", "入驻条件"),
        ("第三章", "入驻流程"),
        ("第四章", "日常管理"),
        ("第五章", "考核管理"),
    ]
    assert [a.label for a in REGULATION.articles] == ARTICLE_LABELS
    assert [a.number for a in REGULATION.articles] == list(range(1, 19))
    assert [len(c.articles) for c in REGULATION.chapters] == [4, 5, 3, 3, 3]


def test_articles_keep_their_words_and_paragraphs():
    art14 = REGULATION.article(14)
    assert art14.paragraphs[0].startswith("线上平台入驻机构应设置1-2名专、兼职客服人员跟进服务答复事宜。")
    assert art14.paragraphs[0].endswith(
        "客服人员工作日白天时段（上午8:00-下午18:00）在线客服响应时间平均不大于2小时；"
        "非工作日白天时段产生的离线咨询回复时间不超过6个小时。"
    )
    assert REGULATION.article(9).paragraphs[0].startswith("线上平台入驻机构为设备共享类的")  # one space
    assert REGULATION.article(12).paragraphs == (
        "退出和清退。",
        "由机构向线上平台管理单位提出退出书面文件，在协助处理完毕该机构在平台的各类遗留问题后，办理退出手续，即可退出。",
        "因平台考核不符合要求被清退的，由线上平台管理单位发出清退通知，机构处理完相关遗留问题后退出。",
        "线上平台管理单位认为没必要入驻或保留的，由线上平台管理单位清理。",
    )
    assert len(REGULATION.article(10).paragraphs) == 4  # the list (一) to (三) under it
    assert (
        REGULATION.article(13)
        .paragraphs[0]
        .startswith("线上平台入驻机构应严格遵守“承诺书”，应在正式入驻之日起5个")
    )
    # the unnumbered closing clauses are not part of Art. 18
    (art18,) = REGULATION.article(18).paragraphs
    assert art18 == "法律、法规、规章和相关政策文件对线上平台入驻机构管理另有规定的，从其规定。"
    assert REGULATION.closing == ("本管理办法由佛山市市场监管局负责解释。", "本办法自颁布之日起生效。")
    assert REGULATION.signed.strip() == "2023年3月15日"


def test_annex_1_is_the_pledge_the_applicants_sign():
    pledge = texts.get("2023-03")
    annex = REGULATION.annexes[0]
    assert (annex.number, annex.label) == (1, "附件1")
    assert annex.title == pledge.title
    assert list(annex.blocks[: len(pledge.text.splitlines()) - 1]) == pledge.text.splitlines()[1:]


def test_annex_2_is_the_score_sheet_as_a_table_with_the_items_the_rules_score():
    annex = REGULATION.annexes[1]
    assert annex.title == "".join(score_sheet.TITLE)
    (table,) = [b for b in annex.blocks if isinstance(b, Table)]
    assert table.header == ("序号", "考核内容", "是否\n扣分", "扣分要求", "备注")
    items = table.body[:-1]
    assert [(int(r[0]), r[1], r[3]) for r in items] == [
        (number, text, f"扣{points}分") for number, text, points in score_sheet.ITEMS
    ]
    assert all(r[2] == "□是\n□否" and r[4] == "" for r in items)
    assert table.body[-1] == ("机构得分：           分", "考核结果：□合格  □不合格")
    assert table.spans(table.body[-1]) == [2, 3] and table.spans(items[0]) == [1] * 5
    assert annex.blocks[-1] == "注：" + "".join(score_sheet.NOTES)


def test_the_list_of_annexes_names_each_annex():
    assert list(REGULATION.annex_list) == [(a.number, a.title) for a in REGULATION.annexes]


@pytest.mark.parametrize(
    "text, number",
    [
        ("一", 1),
        ("九", 9),
        ("十", 10),
        ("十一", 11),
        ("十八", 18),
        ("二十", 20),
        ("二十一", 21),
        ("九十九", 99),
    ],
)
def test_chinese_numbers(text, number):
    assert chinese_number(text) == number


def test_a_text_without_the_regulations_shape_is_refused():
    with pytest.raises(ValueError, match="第一章"):
        parse("附件1\n\n某办法\n第一条  没有章。\n")
    with pytest.raises(ValueError, match="落款日期"):
        parse("某办法\n第一章  总则\n第一条  没有日期。\n")


# --- the page ---


def test_the_page_shows_every_article_in_order_each_with_its_anchor(client):
    response = client.get("/regulation")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"<title>{REGULATION.title}" in html
    body = html.split('id="reg-toc-h"')[1]  # past the contents: the text itself
    opening = r'<div class="reg-article" id="art-(\d+)">\s*<p><strong class="reg-art-no">([^<]+)</strong>'
    anchors = re.findall(opening, body)
    assert anchors == [(str(a.number), a.label) for a in REGULATION.articles]
    assert [int(n) for n, _ in anchors] == list(range(1, 19))
    for article in REGULATION.articles:
        assert html.count(f'id="art-{article.number}"') == 1
        assert html.count(f'href="#art-{article.number}"') == 1  # in the contents
        for paragraph in article.paragraphs:
            assert paragraph in html
    for anchor in ("chapter-1", "chapter-5", "annex-1", "annex-2"):
        assert f'id="{anchor}"' in html and f'href="#{anchor}"' in html


def test_the_response_time_article_is_on_the_page_at_its_anchor(client):
    html = client.get("/regulation").get_data(as_text=True)
    article = html.split('id="art-14"')[1].split('class="reg-article"')[0]
    assert "在线客服响应时间平均不大于2小时" in article and "回复时间不超过6个小时" in article


def test_the_page_shows_the_score_sheet_as_a_table(client):
    html = client.get("/regulation").get_data(as_text=True)
    annex = html.split('id="annex-2"')[1]
    table = annex.split('<table class="reg-table">')[1].split("</table>")[0]
    assert table.count("<tr>") == 12  # the header, ten items, the result
    assert '<th scope="col">是否<br>扣分</th>' in table
    assert "经查实一年内的投诉件数是否大于3件" in table and "扣20分" in table
    result = re.search(r'<td colspan="3">(.*?)</td>', table).group(1)
    assert re.sub(r"<[^>]+>", "", result) == "考核结果：□合格  □不合格"  # each choice kept whole
    assert "第一年有效订单不少于20单" in annex


def test_the_footer_links_the_regulations_name_to_the_page(client):
    for path in ("/", "/guide", "/regulation"):
        footer = client.get(path).get_data(as_text=True).split('<footer class="site-footer">')[1]
        assert f'<a href="/regulation">《{REGULATION.title}》</a>' in footer


def test_the_guides_article_references_lead_to_the_articles(client):
    guide = client.get("/guide").get_data(as_text=True)
    links = re.findall(r'<a href="/regulation#(art-\d+)">(第[^<]+条)</a>', guide)
    assert ("art-14", "第十四条") in links and ("art-13", "第十三条") in links
    labels = {a.anchor: a.label for a in REGULATION.articles}
    assert all(labels[anchor] == label for anchor, label in links)
    page = client.get("/regulation").get_data(as_text=True)
    assert all(f'id="{anchor}"' in page for anchor, _ in links)
    assert 'href="/regulation#annex-1"' in guide
