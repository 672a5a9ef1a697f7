"""Service categories (Art. 2, 9) and districts (Art. 5), in the order the regulation gives them.

Slugs are stable identifiers stored in the database and used in URLs and the API; the Chinese
names are what users see.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    slug: str
    name: str


CATEGORIES: tuple[Choice, ...] = (
    Choice("planning", "企业规划"),
    Choice("design", "产品设计"),
    Choice("testing", "产品测试"),
    Choice("sourcing", "原料采购"),
    Choice("metrology", "计量"),
    Choice("standards", "标准"),
    Choice("certification", "认证认可"),
    Choice("inspection", "检验检测"),
    Choice("quality-management", "质量管理"),
    Choice("special-equipment", "特种设备"),
    Choice("coding", "编码"),
    Choice("intellectual-property", "知识产权"),
    Choice("branding", "品牌培育"),
    Choice("tech-finance", "科技金融"),
    Choice("training", "专业培训"),
    Choice("experts", "专家服务"),
    Choice("equipment-sharing", "设备共享"),
)

DISTRICTS: tuple[Choice, ...] = (
    Choice("chancheng", "禅城区"),
    Choice("nanhai", "南海区"),
    Choice("shunde", "顺德区"),
    Choice("gaoming", "高明区"),
    Choice("sanshui", "三水区"),
    Choice("outside", "市外"),
)

ORG_TYPES: tuple[Choice, ...] = (  # 机构类型, Art. 5
    Choice("professional", "专业机构"),
    Choice("university", "高校"),
    Choice("research", "科研院所"),
    Choice("enterprise", "企业"),
)

CATEGORY_NAMES = {c.slug: c.name for c in CATEGORIES}
DISTRICT_NAMES = {d.slug: d.name for d in DISTRICTS}
CATEGORY_BY_NAME = {c.name: c.slug for c in CATEGORIES}
ORG_TYPE_NAMES = {t.slug: t.name for t in ORG_TYPES}
DISTRICT_BY_NAME = {d.name: d.slug for d in DISTRICTS}
CATEGORY_ORDER = {c.slug: i for i, c in enumerate(CATEGORIES)}
