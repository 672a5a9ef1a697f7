"""The read-only JSON API: shapes, ranking equal to the directory's, filters, paging, errors, OpenAPI."""

import re
from datetime import date, timedelta

import pytest
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate as validate_spec

from qzt.core import clock
from qzt.data.catalog import CATEGORIES, DISTRICTS
from qzt.directory.api import openapi
from qzt.models import ListingState

# The keys the OpenAPI document requires of a listing item and of a detail; the shape tests below hold the
# API to exactly these, and pin each one's value.
_SCHEMAS = openapi.document()["components"]["schemas"]
SUMMARY_KEYS = set(_SCHEMAS["InstitutionSummary"]["required"])
DETAIL_KEYS = SUMMARY_KEYS | set(_SCHEMAS["InstitutionDetail"]["required"])
CJK = re.compile(r"[\u4e00-\u9fff]")


def get_json(client, url: str, status: int = 200, **params) -> dict:
    response = client.get(url, query_string=params)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def documented_schema(path: str, status: int) -> dict:
    """The response schema the OpenAPI document declares, resolvable on its own."""
    doc = openapi.document()
    schema = doc["paths"][path]["get"]["responses"][str(status)]["content"]["application/json"]["schema"]
    return {**schema, "components": doc["components"]}


def assert_documented(path: str, status: int, body: dict) -> None:
    OAS31Validator(documented_schema(path, status), format_checker=oas31_format_checker).validate(body)


def html_order(client, **params) -> list[int]:
    """Institution ids in the order the directory's results fragment lists them."""
    response = client.get("/directory", query_string=params, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    return [int(i) for i in re.findall(r'href="/institutions/(\d+)"', html)]


def api_order(client, **params) -> list[int]:
    return [item["id"] for item in get_json(client, "/api/v1/institutions", **params)["items"]]


# Catalog ------------------------------------------------------------------------------------------------


def test_categories_in_the_regulations_order_with_listed_counts(client, make_institution):
    make_institution(
        "甲检测", services=[("inspection", "检测甲", "", True), ("inspection", "检测乙", "", False)]
    )
    make_institution("乙计量", services=[("metrology", "校准", "", True), ("inspection", "检测", "", False)])
    make_institution("丙待审", services=[("metrology", "校准", "", True)], state=ListingState.PENDING)

    body = get_json(client, "/api/v1/categories")

    assert list(body) == ["items"]
    assert [(c["slug"], c["name"]) for c in body["items"]] == [(c.slug, c.name) for c in CATEGORIES]
    assert len(body["items"]) == 17
    assert all(set(item) == {"slug", "name", "count"} for item in body["items"])
    counts = {c["slug"]: c["count"] for c in body["items"]}
    assert counts["inspection"] == 2  # once per institution, however many items it has there
    assert counts["metrology"] == 1  # the pending one is not counted
    assert counts["planning"] == 0
    assert_documented("/api/v1/categories", 200, body)


def test_districts(client):
    body = get_json(client, "/api/v1/districts")
    assert body == {"items": [{"slug": d.slug, "name": d.name} for d in DISTRICTS]}
    assert_documented("/api/v1/districts", 200, body)


def test_json_carries_real_chinese_characters(client):
    raw = client.get("/api/v1/categories").get_data()
    assert "企业规划".encode() in raw
    assert b"\\u" not in raw


# Listing ------------------------------------------------------------------------------------------------


def test_listing_shape(client, make_institution):
    inst = make_institution(
        "佛山市禅城检测有限公司",
        district="nanhai",
        services=[("metrology", "长度计量", "", False), ("inspection", "电子电器检测", "", True)],
    )

    body = get_json(client, "/api/v1/institutions")

    search_keys = {
        "total_capped",
        "partial",
        "synonyms",
        "correction",
        "suggested_categories",
    }  # issues 14, 17
    assert set(body) == {"items", "total", "page", "per_page"} | search_keys
    assert (body["total"], body["page"], body["per_page"]) == (1, 1, 20)
    [item] = body["items"]
    assert set(item) == SUMMARY_KEYS | {"highlights"}
    assert item["id"] == inst.id
    assert item["name"] == "佛山市禅城检测有限公司"
    assert item["district"] == "nanhai"
    assert item["categories"] == ["metrology", "inspection"]  # the regulation's order
    assert item["services"] == [  # featured first, as on the homepage
        {"title": "电子电器检测", "category": "inspection"},
        {"title": "长度计量", "category": "metrology"},
    ]
    assert item["url"] == f"http://localhost/institutions/{inst.id}"
    assert client.get(item["url"]).status_code == 200
    assert_documented("/api/v1/institutions", 200, body)


def test_only_listed_institutions(client, make_institution):
    listed = make_institution("公示检测")
    for state in ListingState:
        if state is not ListingState.LISTED:
            make_institution(f"{state.value}检测", state=state)
    assert api_order(client) == [listed.id]
    assert api_order(client, q="检测") == [listed.id]


def test_a_name_match_ranks_above_a_text_match(client, make_institution):
    in_text = make_institution("佛山市甲有限公司", introduction="提供计量校准服务")
    in_name = make_institution("佛山市计量研究院", introduction="")
    make_institution("佛山市乙有限公司", introduction="无关")

    assert api_order(client, q="计量") == [in_name.id, in_text.id]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "计量"},
        {"q": "检测"},
        {"q": "CMA"},
        {"q": "检测", "district": "shunde"},
        {"category": "metrology"},
        {"q": "检测", "page": "2", "per_page": "2"},
        {"q": "!!!"},
    ],
)
def test_order_equals_the_html_directory(client, make_institution, params):
    make_institution("顺德检测中心", district="shunde", services=[("inspection", "检测", "", True)])
    make_institution(
        "禅城甲公司", introduction="计量与检测，CMA资质", services=[("metrology", "校准", "", True)]
    )
    make_institution("南海计量检测所", district="nanhai", services=[("metrology", "计量检测", "", True)])
    make_institution(
        "顺德乙公司", district="shunde", introduction="产品检测", services=[("testing", "测试", "", True)]
    )
    make_institution("高明CMA实验室", district="gaoming", services=[("inspection", "食品检验", "", True)])

    expected = html_order(client, **params)
    assert expected or params.get("q") == "!!!"  # the comparison is not between two empty lists
    assert api_order(client, **params) == expected


def test_filters(client, make_institution):
    a = make_institution("甲", district="shunde", services=[("metrology", "校准", "", True)])
    b = make_institution("乙", district="shunde", services=[("inspection", "检测", "", True)])
    c = make_institution("丙", district="nanhai", services=[("metrology", "计量", "", True)])

    assert api_order(client, district="shunde") == [a.id, b.id]
    assert api_order(client, category="metrology") == [a.id, c.id]
    assert api_order(client, category="metrology", district="nanhai") == [c.id]
    assert api_order(client, category="branding") == []


def test_pagination(client, make_institution):
    ids = [make_institution(f"第{n}家检测公司").id for n in range(25)]

    first = get_json(client, "/api/v1/institutions")
    assert (first["total"], first["page"], first["per_page"]) == (25, 1, 20)
    assert [i["id"] for i in first["items"]] == ids[:20]

    second = get_json(client, "/api/v1/institutions", page=2)
    assert (second["total"], second["page"], second["per_page"]) == (25, 2, 20)
    assert [i["id"] for i in second["items"]] == ids[20:]

    small = get_json(client, "/api/v1/institutions", page=3, per_page=10)
    assert [i["id"] for i in small["items"]] == ids[20:]

    assert len(get_json(client, "/api/v1/institutions", per_page=100)["items"]) == 25

    beyond = get_json(client, "/api/v1/institutions", page=4, per_page=10)
    assert beyond | {"partial": False} == {
        "items": [],
        "total": 25,
        "page": 4,
        "per_page": 10,
        "total_capped": False,
        "partial": False,
        "synonyms": {},
        "correction": None,
        "suggested_categories": [],
    }
    last_allowed = get_json(client, "/api/v1/institutions", page=openapi.MAX_PAGE)
    assert last_allowed["items"] == [] and last_allowed["total"] == 25


def test_unknown_parameters_are_ignored(client, make_institution):
    inst = make_institution()
    assert api_order(client, sort="name", format="xml", callback="x") == [inst.id]


def test_empty_parameters_mean_no_filter(client, make_institution):
    inst = make_institution()
    body = get_json(client, "/api/v1/institutions", q="", category="", district="", page="", per_page="")
    assert [i["id"] for i in body["items"]] == [inst.id]
    assert (body["page"], body["per_page"]) == (1, 20)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"page": str(openapi.MAX_PAGE + 1)}, "page"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "1000"}, "per_page"),
        ({"per_page": "x"}, "per_page"),
        ({"category": "nonsense"}, "category"),
        ({"category": "测试类"}, "category"),  # neither a slug nor a name
        ({"district": "nonsense"}, "district"),
        ({"q": "检" * 101}, "q"),
    ],
)
def test_bad_parameters_are_400_with_a_message(client, params, field):
    body = get_json(client, "/api/v1/institutions", 400, **params)

    assert set(body) == {"error", "fields", "request_id"}
    assert list(body["fields"]) == [field]
    assert CJK.search(body["error"]) and CJK.search(body["fields"][field])
    assert body["fields"][field] in body["error"]
    assert_documented("/api/v1/institutions", 400, body)


def test_every_bad_parameter_is_named(client):
    body = get_json(client, "/api/v1/institutions", 400, page="abc", per_page="1000", district="x")
    assert set(body["fields"]) == {"page", "per_page", "district"}


@pytest.mark.parametrize(
    "q", ["检" * 100, "\x00检测", "'; DROP TABLE institutions; --", '"计量" OR *', "%_\\"]
)
def test_odd_but_acceptable_queries_are_answered(client, make_institution, q):
    make_institution()
    body = get_json(client, "/api/v1/institutions", q=q)
    assert body["page"] == 1


# Detail -------------------------------------------------------------------------------------------------


def test_detail(client, make_institution):
    today = clock.today()
    inst = make_institution(
        "佛山市计量研究院",
        district="shunde",
        introduction="计量检定与校准。",
        services=[("metrology", "长度计量", "量具检定", True)],
        qualifications=[
            ("CNAS认可证书", today + timedelta(days=30)),
            ("旧证书", today - timedelta(days=1)),
            ("长期证书", None),
        ],
        agents=[("张三", "13812341234"), ("李四", "+86 139-0000-5678")],
        opened_on=date(2025, 3, 3),
    )

    body = get_json(client, f"/api/v1/institutions/{inst.id}")

    assert set(body) == DETAIL_KEYS
    assert body["id"] == inst.id
    assert body["name"] == "佛山市计量研究院"
    assert body["uscc"] == inst.uscc and body["address"] == "佛山市禅城区季华五路1号"
    assert body["district"] == "shunde" and body["district_name"] == "顺德区"
    assert body["categories"] == ["metrology"] and body["category_names"] == ["计量"]
    assert body["url"] == f"http://localhost/institutions/{inst.id}"
    assert body["introduction"] == "计量检定与校准。"
    assert body["opened_on"] == "2025-03-03"
    assert body["services"] == [
        {
            "title": "长度计量",
            "category": "metrology",
            "category_name": "计量",
            "content": "量具检定",
            "featured": True,
        }
    ]
    assert body["qualifications"] == [
        {
            "name": "CNAS认可证书",
            "number": "No.1",
            "issuer": "发证机关",
            "valid_until": (today + timedelta(days=30)).isoformat(),
            "expired": False,
        },
        {
            "name": "旧证书",
            "number": "No.1",
            "issuer": "发证机关",
            "valid_until": (today - timedelta(days=1)).isoformat(),
            "expired": True,
        },
        {"name": "长期证书", "number": "No.1", "issuer": "发证机关", "valid_until": None, "expired": False},
    ]
    assert body["agents"] == [
        {"name": "张三", "phone": "138****1234", "hours": "工作日 8:00-18:00"},
        {"name": "李四", "phone": "139****5678", "hours": "工作日 8:00-18:00"},
    ]
    assert body["phone"] == "075*****1234"  # 0757-83301234
    raw = client.get(f"/api/v1/institutions/{inst.id}").get_data(as_text=True)
    assert "13812341234" not in raw and "83301234" not in raw
    assert_documented("/api/v1/institutions/{institution_id}", 200, body)


def test_detail_summary_keys_match_the_listing(client, make_institution):
    inst = make_institution()
    [item] = get_json(client, "/api/v1/institutions")["items"]
    detail = get_json(client, f"/api/v1/institutions/{inst.id}")
    for key in SUMMARY_KEYS - {"services"}:
        assert detail[key] == item[key], key
    assert [{"title": s["title"], "category": s["category"]} for s in detail["services"]] == item["services"]


@pytest.mark.parametrize("state", [s for s in ListingState if s is not ListingState.LISTED])
def test_unlisted_institution_is_404(client, make_institution, state):
    inst = make_institution(state=state)
    body = get_json(client, f"/api/v1/institutions/{inst.id}", 404)
    assert set(body) == {"error", "request_id"} and CJK.search(body["error"])
    assert_documented("/api/v1/institutions/{institution_id}", 404, body)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/institutions/999",
        "/api/v1/institutions/99999999999999999999",
        "/api/v1/institutions/abc",
        "/api/v1/nothing",
    ],
)
def test_unknown_is_404_json(client, path):
    body = get_json(client, path, 404)
    assert set(body) == {"error", "request_id"} and CJK.search(body["error"])


def test_api_is_read_only(client, make_institution):
    inst = make_institution()
    response = client.post(f"/api/v1/institutions/{inst.id}")
    assert response.status_code == 405
    assert CJK.search(response.get_json()["error"])


# OpenAPI ------------------------------------------------------------------------------------------------


def test_openapi_document_is_valid(client):
    doc = get_json(client, "/api/v1/openapi.json")
    assert doc["openapi"].startswith("3.1")
    validate_spec(doc)


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_api_route_is_documented(app):
    paths = openapi.document()["paths"]
    routes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")]
    assert routes
    for rule in routes:
        path = _openapi_path(rule.rule)
        assert path in paths, f"{rule.rule} is not in openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths[path], f"{method} {rule.rule} is not in openapi.json"
    assert len(paths) == len(routes)


def test_documented_enums_follow_the_catalog():
    params = {p["name"]: p for p in openapi.document()["paths"]["/api/v1/institutions"]["get"]["parameters"]}
    # Slugs first, then the Chinese names (and districts without 区) the API accepts as well.
    assert params["category"]["schema"]["enum"] == [c.slug for c in CATEGORIES] + [c.name for c in CATEGORIES]
    districts = params["district"]["schema"]["enum"]
    assert districts[: len(DISTRICTS)] == [d.slug for d in DISTRICTS]
    assert {"顺德区", "顺德", "市外"} <= set(districts)
    assert params["per_page"]["schema"]["maximum"] == 100
