"""The OpenAPI 3.1 document of /api/v1, with the category and district slugs from the catalog.

Kept next to the views and checked by tests/test_api.py: it must be valid, name every route, and
every response the API gives must match the schema declared here.
"""

from qzt.data.catalog import CATEGORIES, DISTRICTS
from qzt.directory.forms import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _nullable(type_: str, **extra) -> dict:
    return {"type": [type_, "null"], **extra}


CATEGORY_SLUG = {
    "type": "string",
    "enum": [c.slug for c in CATEGORIES],
    "description": "服务类别：" + "，".join(f"{c.slug}={c.name}" for c in CATEGORIES),
}
DISTRICT_SLUG = {
    "type": "string",
    "enum": [d.slug for d in DISTRICTS],
    "description": "所在区：" + "，".join(f"{d.slug}={d.name}" for d in DISTRICTS),
}

SCHEMAS: dict = {
    "Category": {
        "type": "object",
        "required": ["slug", "name", "count"],
        "properties": {
            "slug": CATEGORY_SLUG,
            "name": {"type": "string", "description": "类别名称"},
            "count": {"type": "integer", "minimum": 0, "description": "该类别下在名录中公示的机构数"},
        },
    },
    "CategoryList": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": _ref("Category")}},
    },
    "District": {
        "type": "object",
        "required": ["slug", "name"],
        "properties": {"slug": DISTRICT_SLUG, "name": {"type": "string", "description": "区名"}},
    },
    "DistrictList": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": _ref("District")}},
    },
    "Service": {
        "type": "object",
        "required": ["title", "category"],
        "properties": {"title": {"type": "string", "description": "服务项目名称"}, "category": CATEGORY_SLUG},
    },
    "InstitutionSummary": {
        "type": "object",
        "required": ["id", "name", "district", "categories", "services", "url"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string", "description": "机构名称"},
            "district": DISTRICT_SLUG,
            "categories": {
                "type": "array",
                "items": CATEGORY_SLUG,
                "description": "其服务项目所属的类别，按《办法》顺序",
            },
            "services": {
                "type": "array",
                "items": _ref("Service"),
                "description": "服务项目，优势服务项目在前",
            },
            "url": {"type": "string", "format": "uri", "description": "机构主页地址"},
        },
    },
    "InstitutionList": {
        "type": "object",
        "required": [
            "items",
            "total",
            "total_capped",
            "page",
            "per_page",
            "partial",
            "synonyms",
            "correction",
            "suggested_categories",
        ],
        "properties": {
            "items": {"type": "array", "items": _ref("InstitutionSearchItem")},
            "total": {
                "type": "integer",
                "minimum": 0,
                "description": "符合条件的机构总数；关键词检索最多计到 1000（见 total_capped）",
            },
            "total_capped": {
                "type": "boolean",
                "description": "true：符合条件的机构超过 1000 家，total 为 1000，分页到此为止",
            },
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "partial": {
                "type": "boolean",
                "description": "true：没有机构同时包含全部词语，items 为包含词语最多的机构（部分匹配）",
            },
            "synonyms": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "description": "同时搜索了近义词的词语及其近义词（仅当近义词找到了更多结果时）",
                "examples": [{"检测": ["检验"]}],
            },
            "correction": _nullable("string", description="无结果时，纠正错别字后能找到结果的搜索词"),
            "suggested_categories": {
                "type": "array",
                "items": CATEGORY_SLUG,
                "description": "无结果时，与搜索词最相关的服务类别",
            },
        },
    },
    "InstitutionSearchItem": {
        "allOf": [_ref("InstitutionSummary")],
        "type": "object",
        "required": ["highlights"],
        "properties": {
            "highlights": {
                "type": "object",
                "required": ["name", "services"],
                "description": "HTML（已转义）：名称与各服务项目名称（顺序同 services），"
                "搜索词以 <mark> 标出",
                "properties": {
                    "name": {"type": "string", "examples": ["佛山市<mark>计量</mark>检测所"]},
                    "services": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
    "ServiceDetail": {
        "allOf": [_ref("Service")],
        "type": "object",
        "required": ["category_name", "content", "featured"],
        "properties": {
            "category_name": {"type": "string"},
            "content": {"type": "string", "description": "服务内容"},
            "featured": {"type": "boolean", "description": "是否为优势服务项目"},
        },
    },
    "Qualification": {
        "type": "object",
        "required": ["name", "number", "issuer", "valid_until", "expired"],
        "properties": {
            "name": {"type": "string", "description": "证书名称"},
            "number": _nullable("string", description="证书编号"),
            "issuer": _nullable("string", description="发证机构"),
            "valid_until": _nullable("string", format="date", description="有效期至；null 为长期有效"),
            "expired": {"type": "boolean", "description": "今日是否已过期"},
        },
    },
    "Agent": {
        "type": "object",
        "required": ["name", "phone", "hours"],
        "properties": {
            "name": {"type": "string", "description": "客服人员姓名"},
            "phone": {
                "type": "string",
                "description": "电话（已脱敏，如 138****1234）",
                "examples": ["138****1234"],
            },
            "hours": _nullable("string", description="服务时间"),
        },
    },
    "InstitutionDetail": {
        "allOf": [_ref("InstitutionSummary")],
        "type": "object",
        "required": [
            "district_name",
            "category_names",
            "introduction",
            "opened_on",
            "uscc",
            "address",
            "phone",
            "qualifications",
            "agents",
        ],
        "properties": {
            "services": {"type": "array", "items": _ref("ServiceDetail")},
            "district_name": {"type": "string", "description": "所在区名称"},
            "category_names": {"type": "array", "items": {"type": "string"}, "description": "类别名称"},
            "introduction": {"type": "string", "description": "机构简介"},
            "opened_on": _nullable("string", format="date", description="服务开通时间"),
            "uscc": {"type": "string", "description": "统一社会信用代码"},
            "address": _nullable("string", description="地址"),
            "phone": _nullable("string", description="联系电话（已脱敏）"),
            "qualifications": {"type": "array", "items": _ref("Qualification")},
            "agents": {"type": "array", "items": _ref("Agent")},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error", "request_id"],
        "properties": {
            "error": {"type": "string", "description": "错误说明（中文）"},
            "request_id": {
                "type": "string",
                "description": "请求编号（与响应头 X-Request-ID 相同），联系我们时请提供",
            },
        },
    },
    "ValidationError": {
        "allOf": [_ref("Error")],
        "type": "object",
        "required": ["fields"],
        "properties": {
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "出错的参数及其说明",
                "examples": [{"page": "页码应为正整数"}],
            },
        },
    },
}


PARAMETERS = [
    {
        "name": "q",
        "in": "query",
        "description": (
            "搜索词，匹配机构名称、简介、服务项目和资质，可不加空格（如 电梯检验），可用拼音或首字母"
            "（jiliang、jl）；名称匹配的机构排在前面"
        ),
        "schema": {"type": "string", "maxLength": MAX_QUERY},
    },
    {
        "name": "category",
        "in": "query",
        "description": "按服务类别筛选：类别代码或中文名称，如 inspection 或 检验检测。"
        + CATEGORY_SLUG["description"],
        "schema": {
            "type": "string",
            "enum": [c.slug for c in CATEGORIES] + [c.name for c in CATEGORIES],
            "examples": ["inspection", "检验检测"],
        },
    },
    {
        "name": "district",
        "in": "query",
        "description": "按所在区筛选：代码或中文名称，如 shunde、顺德区或顺德。"
        + DISTRICT_SLUG["description"],
        "schema": {
            "type": "string",
            "enum": [d.slug for d in DISTRICTS]
            + [d.name for d in DISTRICTS]
            + [d.name.removesuffix("区") for d in DISTRICTS if d.name.endswith("区")],
            "examples": ["shunde", "顺德区"],
        },
    },
    {
        "name": "page",
        "in": "query",
        "description": "页码；超出末页时 items 为空",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    },
    {
        "name": "per_page",
        "in": "query",
        "description": "每页条数",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20},
    },
]


def document() -> dict:
    """The whole document; paths are absolute (they include /api/v1)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "佛山企质通 开放接口",
            "version": "1.0.0",
            "description": "只读接口：服务类别、所在区与名录中公示的服务机构。电话号码一律脱敏。",
        },
        "paths": {
            "/api/v1/categories": {
                "get": {
                    "operationId": "listCategories",
                    "summary": "服务类别（按《办法》顺序）及各类别公示机构数",
                    "responses": {"200": _json("17 个服务类别", "CategoryList")},
                }
            },
            "/api/v1/districts": {
                "get": {
                    "operationId": "listDistricts",
                    "summary": "所在区",
                    "responses": {"200": _json("所在区列表", "DistrictList")},
                }
            },
            "/api/v1/institutions": {
                "get": {
                    "operationId": "listInstitutions",
                    "summary": "检索名录中公示的机构，排序与网站名录相同",
                    "description": "未知的查询参数会被忽略。",
                    "parameters": PARAMETERS,
                    "responses": {
                        "200": _json("一页机构", "InstitutionList"),
                        "400": _json("参数有误，fields 说明各参数应如何修改", "ValidationError"),
                    },
                }
            },
            "/api/v1/institutions/{institution_id}": {
                "get": {
                    "operationId": "getInstitution",
                    "summary": "机构详情（与机构主页公示内容一致）",
                    "parameters": [
                        {
                            "name": "institution_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 0},
                        }
                    ],
                    "responses": {
                        "200": _json("机构详情", "InstitutionDetail"),
                        "404": _json("机构不存在或未在名录中公示", "Error"),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApiDocument",
                    "summary": "本接口的 OpenAPI 3.1 描述",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 文档",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
