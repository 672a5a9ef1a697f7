"""The public directory (Art. 2, 5): search, filters, pagination, htmx fragments, homepages."""

from datetime import date, timedelta

import pytest
from shared_fixtures import csrf, log_in

from qzt.core import clock
from qzt.directory.search import Filters, search
from qzt.extensions import db
from qzt.models import ListingState, Role


def names(filters: Filters, page: int = 1, per_page: int = 20) -> list[str]:
    return [i.name for i in search(filters, page, per_page).items]


def featured(*items: tuple[str, ...]) -> list[tuple]:
    """Featured service items for make_institution, from (category, title) or (category, title, content)."""
    return [(category, title, "".join(content), True) for category, title, *content in items]


@pytest.fixture
def sample(make_institution):
    """A small directory with known text, in creation (id) order."""
    return {
        "metrology": make_institution(
            "广东省计量科学研究院佛山分院",
            introduction="提供长度、热工、力学计量校准服务。",
            services=featured(("metrology", "长度计量校准", "卡尺、千分尺校准"), ("metrology", "压力表检定")),
            qualifications=[("计量授权证书", date(2030, 1, 1))],
        ),
        "inspection": make_institution(
            "佛山市顺德区家电检测中心",
            district="shunde",
            introduction="具备CMA资质，家用电器安全与能效检验检测。",
            services=featured(
                ("inspection", "电子电器检验检测", "安规、EMC"), ("certification", "CCC认证咨询")
            ),
            qualifications=[("CNAS实验室认可证书", date(2029, 6, 30))],
        ),
        "ip": make_institution(
            "南海知识产权代理有限公司",
            district="nanhai",
            introduction="商标注册、专利申请，提供计量器具专利布局咨询。",
            services=featured(("intellectual-property", "商标注册"), ("intellectual-property", "专利申请")),
        ),
        "hidden": make_institution(
            "佛山隐藏计量服务中心", services=featured(("metrology", "计量校准")), state=ListingState.HIDDEN
        ),
    }


def test_art2_two_character_query_finds_longer_words(sample):
    assert names(Filters(q="检测")) == ["佛山市顺德区家电检测中心"]  # via 检验检测 and the name
    assert "佛山市顺德区家电检测中心" in names(Filters(q="认证"))  # CCC认证咨询


def test_art2_name_match_ranks_above_text_match(sample):
    # 计量 is in the metrology institute's name, only in the IP firm's introduction.
    assert names(Filters(q="计量")) == ["广东省计量科学研究院佛山分院", "南海知识产权代理有限公司"]


def test_art2_name_match_ranks_first_even_when_created_later(make_institution):
    make_institution(
        "甲公司", introduction="我们也做标准化咨询", services=[("planning", "企业规划", "", True)]
    )
    make_institution("佛山标准化研究所", services=[("standards", "标准制定", "", True)])
    assert names(Filters(q="标准")) == ["佛山标准化研究所", "甲公司"]


def test_search_covers_services_introductions_and_qualifications(sample):
    assert names(Filters(q="千分尺")) == ["广东省计量科学研究院佛山分院"]  # service content
    assert names(Filters(q="能效")) == ["佛山市顺德区家电检测中心"]  # introduction
    assert names(Filters(q="实验室认可")) == ["佛山市顺德区家电检测中心"]  # qualification name


@pytest.mark.parametrize("query", ["CMA", "cma", "Cma", "CNAS", "cnas"])
def test_latin_tokens_match_regardless_of_case(sample, query):
    assert names(Filters(q=query)) == ["佛山市顺德区家电检测中心"]


def test_iso9001_matches_regardless_of_case(make_institution):
    make_institution("认证咨询公司", services=[("certification", "ISO9001质量管理体系认证", "", True)])
    assert names(Filters(q="iso9001")) == ["认证咨询公司"]
    assert names(Filters(q="ISO 9001")) == ["认证咨询公司"]


def test_art5_only_listed_institutions_appear(sample, make_institution):
    for state in (ListingState.PENDING, ListingState.WITHDRAWN, ListingState.EXPELLED):
        make_institution(f"{state.value}计量所", services=[("metrology", "计量", "", True)], state=state)
    found = names(Filters(q="计量"))
    assert "佛山隐藏计量服务中心" not in found
    assert not any(n.endswith("计量所") for n in found)


def test_filters_by_category_and_district(sample):
    assert names(Filters(category="intellectual-property")) == ["南海知识产权代理有限公司"]
    assert names(Filters(district="shunde")) == ["佛山市顺德区家电检测中心"]
    assert names(Filters(q="计量", district="nanhai")) == ["南海知识产权代理有限公司"]
    assert names(Filters(q="计量", category="inspection")) == []


def test_query_without_words_finds_nothing(sample):
    assert names(Filters(q="，，！")) == []


def test_pagination(make_institution):
    for n in range(25):
        make_institution(f"佛山第{n:02d}检测站")
    first, second = search(Filters(q="检测"), 1, 20), search(Filters(q="检测"), 2, 20)
    assert (first.total, len(first.items), len(second.items)) == (25, 20, 5)
    assert {i.id for i in first.items}.isdisjoint({i.id for i in second.items})
    assert first.pages == 2 and first.has_next and not second.has_next


# --- pages ---


def test_home_shows_categories_with_counts(client, sample):
    html = client.get("/").get_data(as_text=True)
    assert "设备共享" in html and "企业规划" in html
    # Listed institutions only: the hidden metrology centre does not count.
    assert 'href="/directory?category=metrology"' in html
    tile = html.split('href="/directory?category=metrology"')[1].split("</a>")[0]
    assert "1 家机构" in tile


def test_directory_full_page_without_htmx(client, sample):
    response = client.get("/directory?q=计量")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html and 'id="filters"' in html
    assert 'action="/directory"' in html  # the form works as a plain GET form without JavaScript
    # Names are shown with the query marked: 广东省<mark>计量</mark>科学研究院佛山分院.
    assert html.index("科学研究院佛山分院") < html.index("南海知识产权代理有限公司")


def test_directory_htmx_request_gets_only_the_results(client, sample):
    response = client.get("/directory?q=计量", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="filters"' not in html
    assert "广东省<mark>计量</mark>科学研究院佛山分院" in html
    assert "HX-Request" in response.headers.get("Vary", "")


def test_boosted_htmx_navigation_gets_the_full_page(client, sample):
    response = client.get("/directory", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_directory_keeps_the_users_query_in_the_form(client, sample):
    html = client.get("/directory?q=检测&category=inspection&district=shunde").get_data(as_text=True)
    assert 'value="检测"' in html
    assert '<option value="inspection" selected>' in html
    assert '<option value="shunde" selected>' in html


def test_directory_pager_links_keep_filters(client, make_institution):
    for n in range(21):
        make_institution(f"佛山第{n:02d}检测站", district="gaoming")
    html = client.get("/directory?q=检测&district=gaoming").get_data(as_text=True)
    next_link = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert "district=gaoming" in next_link and "page=2" in next_link
    page2 = client.get(next_link).get_data(as_text=True)
    assert "第 2 页" in page2


@pytest.mark.parametrize(
    "query, message",
    [
        ("page=abc", "页码应为正整数"),
        ("page=0", "页码应在1到"),
        ("category=nonsense", "未知的服务类别"),
        ("district=mars", "未知的所在区"),
    ],
)
def test_bad_directory_parameters_explain_and_still_render(client, sample, query, message):
    response = client.get(f"/directory?{query}")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_institution_homepage(client, make_institution):
    inst = make_institution(
        "佛山市质量计量监督检测中心",
        introduction="第一段介绍。\n第二段介绍。",
        services=[
            ("metrology", "普通计量项目", "", False),
            ("inspection", "家具检测", "", False),
            ("inspection", "建材检测", "甲醛释放量", True),
            ("metrology", "优势计量项目", "", True),
        ],
        qualifications=[
            ("检验检测机构资质认定证书", clock.today() + timedelta(days=300)),
            ("旧版计量授权证书", clock.today() - timedelta(days=1)),
        ],
        agents=[("王小明", "13812345678")],
    )
    html = client.get(f"/institutions/{inst.id}").get_data(as_text=True)
    assert "第二段介绍" in html and "禅城区" in html
    # Featured items come first within their group, and groups with a featured item before others.
    assert html.index("优势计量项目") < html.index("普通计量项目")
    assert html.index("建材检测") < html.index("家具检测")
    expired_row = html.split("旧版计量授权证书")[1].split("</tr>")[0]
    assert "已过期" in expired_row
    valid_row = html.split("检验检测机构资质认定证书")[1].split("</tr>")[0]
    assert "已过期" not in valid_row
    assert "王小明" in html and "138****5678" in html and "13812345678" not in html


def test_phone_unmasked_for_owner_and_staff(client, make_institution, make_user):
    owner = make_user(Role.INSTITUTION, phone="13700000001")
    inst = make_institution(agents=[("李客服", "13812345678")])
    inst.owner_id = owner.id
    db.session.commit()
    make_user(Role.OPERATOR, phone="13700000002")
    for phone in ("13700000001", "13700000002"):
        log_in(client, phone)
        assert "13812345678" in client.get(f"/institutions/{inst.id}").get_data(as_text=True)
        client.post("/logout", data={"csrf_token": csrf(client)})
    assert "13812345678" not in client.get(f"/institutions/{inst.id}").get_data(as_text=True)


def test_unlisted_or_unknown_homepage_is_404(client, sample):
    assert client.get(f"/institutions/{sample['hidden'].id}").status_code == 404
    assert client.get("/institutions/999999").status_code == 404


def test_user_text_is_escaped(client, make_institution):
    inst = make_institution("<script>alert(1)</script>检测公司", introduction="<img src=x onerror=alert(1)>")
    html = client.get(f"/institutions/{inst.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_pages_send_a_strict_content_security_policy(client):
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_huge_institution_id_is_404_not_500(client):
    assert client.get("/institutions/99999999999999999999").status_code == 404


def test_listing_state_changes_update_the_search_index(make_institution):
    inst = make_institution("佛山市状态变更检测站")
    assert names(Filters(q="状态变更")) == ["佛山市状态变更检测站"]
    inst.listing_state = ListingState.HIDDEN
    db.session.commit()
    assert names(Filters(q="状态变更")) == []  # answered by the index alone
    assert names(Filters(q="状态变更", district="chancheng")) == []  # answered with the table
    inst.listing_state = ListingState.LISTED
    db.session.commit()
    assert names(Filters(q="状态变更")) == ["佛山市状态变更检测站"]


@pytest.mark.parametrize("page", [1, 2, 3])
def test_index_only_and_filtered_searches_page_alike(make_institution, page):
    for n in range(25):
        make_institution(
            f"佛山第{n:02d}检测站" if n % 3 else f"第{n:02d}站",
            introduction="提供检测服务" if n % 3 == 0 else "",
        )
    quick = names(Filters(q="检测"), page, 10)
    with_filter = names(Filters(q="检测", district="chancheng"), page, 10)  # every one is in 禅城区
    assert quick == with_filter and len(quick) == (10 if page < 3 else 5)
