"""The field's words, kept as data: how queries are cut into words, which words mean the same, which
words say nothing, and which words point to which service category (for "did you mean" on no result).

Edit here, not in code; tests/test_search_query.py holds the examples that must keep working.
"""

# Words the segmenter must keep whole (jieba's general dictionary would cut some of them, or not know
# them). Latin words are listed lower-case, as queries are case-folded.
DICTIONARY: tuple[str, ...] = (
    "检验检测",
    "认证认可",
    "特种设备",
    "压力容器",
    "压力管道",
    "起重机械",
    "质量管理体系",
    "环境管理体系",
    "职业健康安全管理体系",
    "管理体系认证",
    "资质认定",
    "强制性产品认证",
    "能效检测",
    "计量器具",
    "计量校准",
    "商品条码",
    "团体标准",
    "标准化",
    "知识产权",
    "品牌培育",
    "科技金融",
    "设备共享",
    "卓越绩效",
    "六西格玛",
    "电磁兼容",
    "家用电器",
    "内审员",
    "实验室",
    "计量检定",
    "型式试验",
)

# Groups of words a user would accept one for another. A query word in a group also finds documents
# holding any other word of the group; the page says so when that changed the result.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("检测", "检验"),
    ("3c", "ccc", "强制性产品认证"),
    ("校准", "检定"),
    ("家电", "家用电器"),
    ("体系认证", "管理体系认证"),
    ("iso9001", "质量管理体系"),
    ("iso14001", "环境管理体系"),
    ("iso45001", "职业健康安全管理体系"),
    ("条码", "条形码", "商品条码"),
    ("专利", "知识产权"),
    ("电磁兼容", "emc"),
    ("锅炉", "承压设备"),
)

# Words that carry no meaning in a search box: dropped from the query (a document need not hold them).
STOP_WORDS: frozenset[str] = frozenset(
    {"的", "了", "和", "与", "及", "或", "在", "是", "有", "找", "请", "我", "要", "想", "哪", "哪家", "哪里",
     "一个", "一下", "服务", "机构", "公司", "有限公司", "佛山", "佛山市"}
)  # fmt: skip

# Words people use for each category beside its name (slug → words), for suggestions on no result.
CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "planning": ("规划", "战略", "发展规划", "咨询"),
    "design": ("设计", "工业设计", "外观设计", "研发"),
    "testing": ("测试", "试验", "可靠性", "型式试验", "电磁兼容"),
    "sourcing": ("采购", "原料", "原材料", "供应商"),
    "metrology": ("计量", "校准", "检定", "计量器具", "衡器", "仪器仪表", "量具"),
    "standards": ("标准", "国标", "团体标准", "标准化", "行业标准"),
    "certification": ("认证", "认可", "3c", "ccc", "iso", "体系认证", "资质认定"),
    "inspection": ("检验", "检测", "化验", "实验室", "家电", "食品"),
    "quality-management": ("质量管理", "卓越绩效", "六西格玛", "qc", "内审员", "质量提升"),
    "special-equipment": ("电梯", "锅炉", "压力容器", "压力管道", "起重机械", "叉车", "特种设备"),
    "coding": ("条码", "商品条码", "二维码", "gs1", "编码", "追溯"),
    "intellectual-property": ("专利", "商标", "版权", "知识产权"),
    "branding": ("品牌", "名牌", "品牌培育", "老字号"),
    "tech-finance": ("贷款", "融资", "金融", "保险", "质押"),
    "training": ("培训", "课程", "考证", "继续教育"),
    "experts": ("专家", "诊断", "技术咨询", "顾问"),
    "equipment-sharing": ("设备共享", "仪器共享", "租赁", "共享实验室"),
}
