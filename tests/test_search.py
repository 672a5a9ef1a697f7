"""The directory search as people type it (issue 14): words without spaces, synonyms, pinyin, partial
matches, suggestions, filters by name, highlights. Each test runs on the engine --db names; the expected
orders are written out, so both engines must give the same one."""

import pytest
import sqlalchemy as sa
from shared_fixtures import page_text

from qzt.directory.search import Filters, search
from qzt.extensions import db


def featured(*items: tuple[str, str]) -> list[tuple]:
    return [(category, title, "", True) for category, title in items]


@pytest.fixture
def directory(make_institution):
    """Institutions as the issue found them, in creation (id) order."""
    make = make_institution
    return {
        "lift": make(
            "佛山市特种设备检验所",
            services=featured(("special-equipment", "电梯定期检验"), ("special-equipment", "锅炉检验")),
        ),
        "appliance": make(
            "顺德家电产品质量检测站",
            district="shunde",
            services=featured(("inspection", "家电产品安全检测"), ("certification", "3C认证咨询")),
        ),
        "metrology": make(
            "佛山市计量科学研究所",
            services=featured(("metrology", "温度仪表校准"), ("metrology", "衡器校准")),
        ),
        "ip": make(
            "南海专利代理有限公司",
            district="nanhai",
            introduction="为制造企业提供专利申请、计量器具专利布局。",
            services=featured(("intellectual-property", "专利申请"), ("intellectual-property", "商标注册")),
        ),
        "lift-maker": make(
            "佛山电梯制造服务中心",
            introduction="电梯安装、维修保养。",
            services=featured(("special-equipment", "电梯维修保养"), ("training", "电梯作业人员培训")),
        ),
    }


def names(q: str, **filters) -> list[str]:
    return [i.name for i in search(Filters(q=q, **filters)).items]


def test_art2_words_typed_without_spaces_find_what_people_mean(directory):
    assert names("电梯检验") == ["佛山市特种设备检验所"]  # offers 电梯定期检验; 梯检 decides nothing
    assert names("家电检测") == ["顺德家电产品质量检测站"]  # offers 家电产品安全检测
    assert names("电梯 检验") == names("电梯检验")


def test_art2_synonyms_find_either_word_and_the_page_says_so(client, directory):
    page = search(Filters(q="衡器检定"))  # it offers 衡器校准: 检定 and 校准 are accepted for each other
    assert [i.name for i in page.items] == ["佛山市计量科学研究所"]
    assert page.synonyms == (("检定", ("校准",)),)
    html = client.get("/directory?q=衡器检定").get_data(as_text=True)
    assert "已同时搜索近义词" in html and "“检定”也搜索了“校准”" in html
    # Where the synonyms change nothing, nothing is said.
    assert search(Filters(q="衡器校准")).synonyms == ()
    assert "已同时搜索近义词" not in client.get("/directory?q=衡器校准").get_data(as_text=True)


def test_art2_pinyin_and_initials_find_names_and_categories(directory):
    assert names("jiliang")[0] == "佛山市计量科学研究所"  # the name first
    assert names("jl")[0] == "佛山市计量科学研究所"
    assert "佛山市特种设备检验所" in names("tezhongshebei")  # its category, 特种设备
    assert names("zhuanli")[0] == "南海专利代理有限公司"


def test_art2_when_no_institution_holds_every_word_those_holding_most_come_and_it_is_said(client, directory):
    page = search(Filters(q="电梯检验 苹果"))
    assert page.partial
    assert [i.name for i in page.items][:1] == ["佛山市特种设备检验所"]  # both 电梯 and 检验
    # Then those holding one word (电梯, or 检验 or its synonym 检测) in their names, by id.
    assert [i.name for i in page.items][1:] == ["顺德家电产品质量检测站", "佛山电梯制造服务中心"]
    html = client.get("/directory?q=电梯检验 苹果").get_data(as_text=True)
    assert "未找到同时包含全部词语的结果，以下为部分匹配" in html
    assert not search(Filters(q="电梯检验")).partial


def test_ranking_most_words_then_name_then_id_the_same_on_both_engines(directory):
    assert names("电梯") == ["佛山电梯制造服务中心", "佛山市特种设备检验所"]  # name match first
    assert names("专利") == ["南海专利代理有限公司"]
    assert names("计量") == ["佛山市计量科学研究所", "南海专利代理有限公司"]
    assert names("电梯 培训 苹果") == ["佛山电梯制造服务中心", "佛山市特种设备检验所"]


def test_no_result_suggests_a_correction_and_categories(client, directory):
    page = search(Filters(q="记量"))
    assert page.total == 0 and page.correction == "计量"
    html = client.get("/directory?q=记量").get_data(as_text=True)
    assert "您是不是要找" in html and "q=%E8%AE%A1%E9%87%8F" in html  # a link to 计量
    page = search(Filters(q="压力容器"))
    assert page.total == 0 and page.categories[0] == "special-equipment"
    html = client.get("/directory?q=压力容器").get_data(as_text=True)
    assert "看看这些服务类别" in html and "category=special-equipment" in html


@pytest.mark.parametrize("category", ["special-equipment", "特种设备"])
def test_filters_accept_the_slug_or_the_chinese_name(client, directory, category):
    assert names("", category="special-equipment") == ["佛山市特种设备检验所", "佛山电梯制造服务中心"]
    body = client.get("/api/v1/institutions", query_string={"category": category}).get_json()
    assert [i["name"] for i in body["items"]] == ["佛山市特种设备检验所", "佛山电梯制造服务中心"]
    html = client.get("/directory", query_string={"category": category, "q": "电梯"}).get_data(as_text=True)
    assert "制造服务中心" in html and "未知的服务类别" not in html  # 电梯 is marked in the name


def test_district_by_name_too_and_an_unknown_name_explains(client, directory):
    body = client.get("/api/v1/institutions", query_string={"district": "顺德"}).get_json()
    assert [i["name"] for i in body["items"]] == ["顺德家电产品质量检测站"]
    answer = client.get("/api/v1/institutions", query_string={"category": "检验"})
    assert answer.status_code == 400 and "检验检测" in answer.get_json()["fields"]["category"]


def test_matched_words_are_marked_and_names_escaped(client, make_institution):
    make_institution("佛山<script>alert(1)</script>计量所", services=featured(("metrology", "计量校准")))
    html = client.get("/directory?q=计量").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "佛山&lt;script&gt;alert(1)&lt;/script&gt;<mark>计量</mark>所" in html
    item = client.get("/api/v1/institutions?q=计量").get_json()["items"][0]
    assert item["name"] == "佛山<script>alert(1)</script>计量所"  # the existing key, unchanged
    assert item["highlights"] == {
        "name": "佛山&lt;script&gt;alert(1)&lt;/script&gt;<mark>计量</mark>所",
        "services": ["<mark>计量</mark>校准"],
    }


def test_api_says_partial_synonyms_and_suggestions(client, directory):
    body = client.get("/api/v1/institutions?q=衡器检定").get_json()
    assert body["synonyms"] == {"检定": ["校准"]} and body["partial"] is False
    body = client.get("/api/v1/institutions?q=电梯检验 苹果").get_json()
    assert body["partial"] is True and body["total"] == 3
    body = client.get("/api/v1/institutions?q=记量").get_json()
    assert body["total"] == 0 and body["correction"] == "计量"
    assert body["suggested_categories"][0] == "metrology"


def test_renamed_institution_is_found_by_its_new_pinyin_only(directory):
    directory["ip"].name = "南海品牌培育中心"
    db.session.commit()
    assert names("pinpai") == ["南海品牌培育中心"]
    assert names("zhuanli") == []  # pinyin is indexed for names and categories, not for every text


def test_reindex_rewrites_documents_written_by_an_older_release(app, directory):
    """An upgrade changes what is indexed (here: pinyin, and the head and service fields); `qzt reindex
    --if-stale` brings old documents up to it, once."""
    document = directory["metrology"].search_document
    document.name_terms = "计量 科学"  # as an older release wrote it: no pinyin, two fields
    document.head_terms = document.service_terms = ""
    document.body_terms = "计量 科学 qztlisted0"
    db.session.commit()
    assert names("jiliang") == []
    run = app.test_cli_runner()
    result = run.invoke(args=["qzt", "reindex", "--if-stale"])
    assert result.exit_code == 0 and "搜索索引已重建：5家机构" in result.output
    assert names("jiliang")[0] == "佛山市计量科学研究所"
    assert "无需重建" in run.invoke(args=["qzt", "reindex", "--if-stale"]).output
    assert "搜索索引已重建" in run.invoke(args=["qzt", "reindex"]).output  # without the flag: always


def test_ranking_name_then_featured_services_then_other_services_then_the_rest(make_institution):
    make = make_institution
    planning = featured(("planning", "企业规划"))
    make("佛山市甲咨询有限公司", introduction="我们也承接家电检测。", services=planning)
    make(
        "佛山市乙技术有限公司",
        services=[("planning", "企业规划", "", True), ("inspection", "家电检测", "", False)],
    )
    make("佛山市丙技术有限公司", services=featured(("inspection", "家电检测")))
    make("佛山市家电检测所", services=planning)
    expected = ["佛山市家电检测所", "佛山市丙技术有限公司", "佛山市乙技术有限公司", "佛山市甲咨询有限公司"]
    assert names("家电检测") == expected
    # Page by page, across the tiers, and through the filtered path: the same order.
    assert [names_on("家电检测", page) for page in (1, 2, 3, 4)] == [[n] for n in expected]
    assert names("家电检测", district="chancheng") == expected


def names_on(q: str, page: int) -> list[str]:
    return [i.name for i in search(Filters(q=q), page, per_page=1).items]


def test_partial_matches_count_a_rare_word_above_a_common_one(make_institution):
    for n in range(3):
        make_institution(f"佛山市第{n + 1}技术服务有限公司", introduction="电梯维修保养。")
    make_institution("佛山市第4技术服务有限公司", introduction="锅炉维修。")
    page = search(Filters(q="电梯 锅炉 苹果"))
    assert page.partial
    # 锅炉 is held by one institution, 电梯 by three: the one holding 锅炉 comes first, though it is
    # the newest (by id it would be last).
    assert [i.name for i in page.items][0] == "佛山市第4技术服务有限公司"


def test_a_broad_query_counts_up_to_the_cap_and_says_so(client, make_institution, monkeypatch):
    """Counting every match of a common word costs a pass over all of them: past CAP the page says
    "CAP+", pages end at CAP, and the API says total_capped (issue 17)."""
    from qzt.directory import search as module

    monkeypatch.setattr(module, "CAP", 4)
    for n in range(6):
        make_institution(f"佛山市第{n + 1}计量检测所")
    page = search(Filters(q="计量"), 1, per_page=3)
    assert (page.total, page.capped, page.pages) == (4, True, 2)
    assert len(search(Filters(q="计量"), 2, per_page=3).items) == 1  # the 4th: the pages end at the cap
    assert search(Filters(q="计量"), 3, per_page=3).items == []
    filtered = search(Filters(q="计量", district="chancheng"))  # filters are index terms: capped alike
    assert (filtered.total, filtered.capped, len(filtered.items)) == (4, True, 4)
    html = page_text(client.get("/directory?q=计量&page=2"))
    assert "共找到 <strong>4+</strong> 家机构" in html and "只显示最相关的前 4 家" in html
    body = client.get("/api/v1/institutions?q=计量").get_json()
    assert (body["total"], body["total_capped"]) == (4, True)
    assert client.get("/api/v1/institutions?q=检测所&district=nanhai").get_json()["total_capped"] is False


def _skip_ids(n: int) -> None:
    """PostgreSQL: the next institution's id `n` further on, so that the matches lie in different
    buckets of ids (qzt.directory.search.BUCKET_SIZE), which its statements ask among."""
    if db.engine.dialect.name == "postgresql":
        sequence = "pg_get_serial_sequence('institutions', 'id')"
        db.session.execute(sa.text(f"SELECT setval({sequence}, nextval({sequence}) + :n)"), {"n": n})


@pytest.mark.parametrize("slack", [0.05, 0.5, 2])
def test_ranking_is_the_same_whatever_bounds_the_ids_are_asked_below(make_institution, monkeypatch, slack):
    """PostgreSQL asks a field's first matches among the first buckets of ids, more while too few are
    found (qzt.directory.search._PostgresIndex.ids): the order must not depend on the bounds."""
    from qzt.directory import search as module

    monkeypatch.setattr(module, "BOUND_SLACK", slack)
    monkeypatch.setattr(module, "BOUND_GROWTH", 2)

    def make(*args, **kwargs):
        _skip_ids(700)  # some 12 buckets in all
        return make_institution(*args, **kwargs)

    make("佛山市甲咨询有限公司", introduction="承接计量校准。")
    make("佛山市乙技术有限公司", services=featured(("metrology", "计量校准")))
    make("佛山市第一计量所")
    make("佛山市丙技术有限公司", services=[("metrology", "仪器计量", "", False)])
    make("佛山市第二计量所")
    for n in range(6):
        make(f"佛山市第{n + 1}咨询有限公司")  # ids after them: bounds below the last id
    make("佛山市第三计量所")
    expected = [
        "佛山市第一计量所",
        "佛山市第二计量所",
        "佛山市第三计量所",
        "佛山市乙技术有限公司",
        "佛山市丙技术有限公司",
        "佛山市甲咨询有限公司",
    ]
    statements: list[str] = []
    record = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert names("计量") == expected
        pages = [[i.name for i in search(Filters(q="计量"), page, per_page=2).items] for page in (1, 2, 3)]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert pages == [expected[:2], expected[2:4], expected[4:]]
    if db.engine.dialect.name == "postgresql" and slack < 1:  # the bounds were asked, and raised
        assert sum("CAST(%(buckets)s AS text[])" in s for s in statements) >= 2


@pytest.mark.parametrize(("matching", "spread"), [(3, 3000), (5, 1800), (9, 1000), (9, 3000), (9, 1)])
def test_counts_are_exact_whichever_buckets_the_matches_lie_in(
    make_institution, monkeypatch, matching, spread
):
    """PostgreSQL counts among the first buckets of ids first, and among all when those hold fewer than
    the cap: the count is exact below the cap and capped above it, however the matches are spread."""
    from qzt.directory import search as module

    monkeypatch.setattr(module, "CAP", 5)
    for n in range(matching):
        _skip_ids(spread)
        make_institution(f"佛山市第{n + 1}计量所")
        _skip_ids(spread)
        make_institution(f"佛山市第{n + 1}咨询有限公司")
    statements: list[str] = []
    record = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = search(Filters(q="计量"), 1, per_page=20)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert (page.total, page.capped) == (min(matching, 5), matching > 5)
    assert [i.name for i in page.items] == [f"佛山市第{n + 1}计量所" for n in range(min(matching, 5))]
    if db.engine.dialect.name == "postgresql" and spread > 1:  # asked among the first buckets first
        assert any("CAST(%(window)s AS text[])" in s for s in statements)


@pytest.mark.parametrize("max_combinations", [1, 16])
def test_words_with_synonyms_find_the_same_however_the_condition_is_written(
    make_institution, monkeypatch, max_combinations
):
    """PostgreSQL writes "每个词的任一同义词" as one array per combination of the words' alternatives, or,
    past MAX_COMBINATIONS, as alternatives ORed word by word: the same institutions either way."""
    from qzt.directory import search as module

    monkeypatch.setattr(module, "MAX_COMBINATIONS", max_combinations)
    make_institution("佛山市甲检验所", services=featured(("inspection", "家用电器检验")))
    make_institution("佛山市乙检测所", services=featured(("inspection", "家电检测")))
    make_institution("佛山市丙检测所", services=featured(("inspection", "电梯检测")))
    assert names("家电检测") == ["佛山市甲检验所", "佛山市乙检测所"]
    assert names("家电检测", district="chancheng") == ["佛山市甲检验所", "佛山市乙检测所"]


def test_a_search_leaves_the_planner_settings_as_it_found_them(make_institution):
    """PostgreSQL: the search plans its own statements with index scans only, no JIT, no parallel
    workers; the request's later statements (and the next request on the same connection) get the
    server's settings back."""
    from qzt.directory.search import _PLANNER_SETTINGS

    make_institution("佛山市设置检测所")
    if db.engine.dialect.name != "postgresql":
        assert names("检测") == ["佛山市设置检测所"]
        return
    read = sa.text("SELECT " + ", ".join(f"current_setting('{name}')" for name in _PLANNER_SETTINGS))
    before = db.session.execute(read).one()
    assert names("检测") == ["佛山市设置检测所"]
    assert db.session.execute(read).one() == before
    assert before[0] == "on" and before[4] == "on"  # seqscan and indexscan allowed again


def test_a_category_and_a_district_together_find_only_institutions_in_both(make_institution):
    """Both filters at once are one index term (qztcd<category><district>): an institution in the
    category elsewhere, or in the district in another category, is not found; one offering several
    categories is, by any of them."""
    make_institution("佛山市顺德检测一所", district="shunde", services=featured(("inspection", "家电检测")))
    make_institution("佛山市禅城检测所", district="chancheng", services=featured(("inspection", "家电检测")))
    make_institution("佛山市顺德计量所", district="shunde", services=featured(("metrology", "检测仪器校准")))
    make_institution(
        "佛山市顺德检测二所",
        district="shunde",
        services=featured(("metrology", "衡器校准"), ("inspection", "电线电缆检测")),
    )
    both = {"category": "inspection", "district": "shunde"}
    assert names("检测", **both) == ["佛山市顺德检测一所", "佛山市顺德检测二所"]
    # The name holding the word first, then the featured service.
    in_metrology = names("检测", category="metrology", district="shunde")
    assert in_metrology == ["佛山市顺德检测二所", "佛山市顺德计量所"]
    assert [i.name for i in search(Filters(**both)).items] == ["佛山市顺德检测一所", "佛山市顺德检测二所"]
    assert names("检测", category="inspection", district="nanhai") == []
