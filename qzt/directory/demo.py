"""Demo data: realistic Foshan institutions and one account per role, the same every run.

Pure generation, no Flask and no database: record i depends only on the seed and i, so a run of
10 institutions is the start of a run of 10000. qzt.directory.institutions writes them; the CLI commits.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from qzt.data.catalog import CATEGORIES, DISTRICTS
from qzt.models.institution import AgentRecord, InstitutionRecord, QualificationRecord, ServiceRecord
from qzt.rules.uscc import with_check_digit

SEED = 2023_03_15  # the regulation's date
DEMO_PASSWORD = "qzt-demo-2023"


@dataclass(frozen=True)
class DemoAccount:
    role: str  # a Role value
    phone: str
    name: str


# Fixed numbers 1390000000x mark the demo accounts; `qzt accounts` lists exactly these.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "13900000001", "系统管理员（演示）"),
    DemoAccount("authority", "13900000002", "质量发展科（演示）"),
    DemoAccount("operator", "13900000003", "平台运维（演示）"),
    DemoAccount("enterprise", "13900000004", "佛山市演示家电有限公司"),
    DemoAccount("institution", "13900000005", "入驻机构管理员（演示）"),
    DemoAccount("agent", "13900000006", "客服小陈（演示）"),
)
DEMO_PHONES = tuple(a.phone for a in DEMO_ACCOUNTS)

OPENED_FROM = date(2023, 3, 15)
OPENED_UNTIL = date(2026, 10, 30)


@dataclass(frozen=True)
class Profile:
    """What institutions of one service category are called, offer and hold."""

    firms: tuple[str, ...]  # company name endings
    research: tuple[str, ...]  # endings for research institutes and university centres
    focus: str
    services: tuple[tuple[str, str], ...]  # (title, content)
    qualifications: tuple[tuple[str, str, str], ...]  # (name, number pattern, issuer)
    lab: bool = False


_CMA = ("检验检测机构资质认定证书（CMA）", "{yy}1912{n6}", "广东省市场监督管理局")
_CNAS = ("实验室认可证书（CNAS）", "CNAS L{n5}", "中国合格评定国家认可委员会")
_ISO9001 = ("ISO 9001质量管理体系认证证书", "00{yy}Q3{n5}R0M", "中国质量认证中心")
_HNTE = ("高新技术企业证书", "GR20{yy}44{n6}", "广东省科学技术厅")

PROFILES: dict[str, Profile] = {
    "planning": Profile(
        firms=("企业管理咨询有限公司", "管理顾问有限公司", "战略咨询有限公司"),
        research=("产业发展研究院", "企业发展研究中心"),
        focus="企业战略规划与转型升级咨询",
        services=(
            (
                "企业发展战略规划",
                "结合行业趋势与企业现状，制定三至五年发展战略，分解年度目标并给出实施路径。",
            ),
            (
                "数字化转型规划",
                "诊断企业信息化水平，规划ERP、MES、WMS等系统建设路线，协助申报数字化转型项目。",
            ),
            (
                "高新技术企业认定辅导",
                "梳理研发项目、研发费用与知识产权，编制申报材料，协助通过高新技术企业认定。",
            ),
            ("专精特新企业培育辅导", "对照广东省专精特新中小企业评价指标开展差距分析，辅导企业逐级申报。"),
            (
                "智能制造能力成熟度评估",
                "依据GB/T 39116开展现场诊断，出具智能制造能力成熟度评估报告与改进建议。",
            ),
            (
                "技改与质量提升项目申报",
                "提供工业企业技术改造、质量提升等专项资金政策解读、材料编制与申报跟踪。",
            ),
        ),
        qualifications=(_ISO9001, ("企业管理咨询服务能力评价证书", "CMC-{yy}{n4}", "中国企业联合会")),
    ),
    "design": Profile(
        firms=("工业设计有限公司", "产品设计有限公司", "创新设计有限公司"),
        research=("工业设计研究院", "设计创新中心"),
        focus="工业设计与产品创新",
        services=(
            (
                "工业产品外观设计",
                "为家电、家具、五金等产品提供造型、CMF与人机工学设计，交付三维模型与效果图。",
            ),
            ("结构设计与手板样机", "完成产品结构设计与DFM可制造性分析，提供CNC与3D打印手板样机。"),
            ("小家电创新设计", "围绕厨房小家电与个人护理电器开展用户研究、概念设计与设计验证。"),
            ("产品包装设计", "提供包装结构、视觉与环保材料方案，兼顾运输跌落与成本要求。"),
            ("智能硬件交互设计", "为智能家居产品设计App界面与交互流程，开展可用性测试。"),
            ("工业设计奖项申报辅导", "辅导企业参评“省长杯”工业设计大赛、红点奖、iF设计奖等奖项。"),
        ),
        qualifications=(
            ("省级工业设计中心认定证书", "粤工信设计〔20{yy}〕{n3}号", "广东省工业和信息化厅"),
            _HNTE,
        ),
    ),
    "testing": Profile(
        firms=("检测技术有限公司", "测试技术服务有限公司", "质量检测有限公司"),
        research=("产品测试中心", "可靠性测试中心"),
        focus="产品性能与安全测试",
        services=(
            ("家用电器安全性能测试", "依据GB 4706系列标准开展电气强度、泄漏电流、发热与耐潮湿等项目测试。"),
            ("电磁兼容（EMC）测试", "开展传导骚扰、辐射骚扰、静电放电、浪涌抗扰度等测试，出具CNAS认可报告。"),
            ("环境与可靠性试验", "提供高低温、湿热、盐雾、振动、跌落与寿命试验，评估产品可靠性。"),
            ("RoHS有害物质检测", "依据IEC 62321开展铅、汞、镉、六价铬及多溴联苯等有害物质检测。"),
            ("能效与噪声测试", "对空调、冰箱、电饭煲等产品开展能效等级与声功率级测试。"),
            ("出口认证测试", "提供CE、CB、UL等出口认证所需测试与整改咨询，缩短认证周期。"),
        ),
        qualifications=(_CMA, _CNAS),
        lab=True,
    ),
    "sourcing": Profile(
        firms=("供应链管理有限公司", "采购服务有限公司", "物资贸易有限公司"),
        research=("供应链研究中心",),
        focus="原料采购与供应链质量管理",
        services=(
            ("供应商现场审核与评级", "依据质量、交付、成本与服务指标开展供应商现场审核，建立分级名录。"),
            ("大宗原材料集中采购", "为中小企业提供铝锭、钢材、塑料粒子等原材料集采，降低采购成本。"),
            ("来料检验外包（IQC）", "承接企业来料抽样检验，出具检验记录并提出不合格品处置建议。"),
            ("采购合同质量条款审核", "审核采购合同中的技术要求、验收标准与质量责任条款，防范履约风险。"),
            ("原料批次追溯体系建设", "协助企业建立原材料批次追溯与供应商质量档案，满足客户审核要求。"),
        ),
        qualifications=(_ISO9001,),
    ),
    "metrology": Profile(
        firms=("计量检测有限公司", "计量校准技术有限公司", "精密测量技术有限公司"),
        research=("计量测试中心", "计量科学研究院"),
        focus="计量检定与仪器校准",
        services=(
            ("强制检定计量器具检定", "开展压力表、电子衡器、加油机、电能表等强制检定计量器具的检定服务。"),
            ("仪器设备校准", "提供长度、热工、力学、电学、化学等仪器设备校准，出具CNAS校准证书。"),
            ("现场校准服务", "工程师上门校准大型设备与生产线在线仪表，减少设备停用时间。"),
            ("测量管理体系建设", "依据GB/T 19022建立测量管理体系，辅导企业通过测量管理体系认证。"),
            ("定量包装商品净含量检验", "依据JJF 1070开展定量包装商品净含量计量检验，出具检验报告。"),
            ("计量比对与能力验证", "组织实验室间计量比对，协助实验室参加能力验证计划并分析结果。"),
        ),
        qualifications=(
            ("计量授权证书", "（粤）法计（20{yy}）{n5}号", "广东省市场监督管理局"),
            _CNAS,
            ("计量标准考核证书", "［20{yy}］粤量标佛证字第{n3}号", "佛山市市场监督管理局"),
        ),
        lab=True,
    ),
    "standards": Profile(
        firms=("标准化技术服务有限公司", "标准技术咨询有限公司"),
        research=("标准化研究院", "标准化研究中心"),
        focus="标准研制与标准化咨询",
        services=(
            (
                "企业标准编制与自我声明公开",
                "协助企业编制产品企业标准，并在企业标准信息公共服务平台自我声明公开。",
            ),
            (
                "团体标准研制",
                "联合行业协会与龙头企业研制团体标准，提供立项、起草、征求意见到发布的全流程服务。",
            ),
            ("国家标准与行业标准参编", "协助企业参与国家标准、行业标准起草，提升企业在行业中的话语权。"),
            ("标准化良好行为企业创建", "依据GB/T 35778辅导企业建立标准体系，创建标准化良好行为企业。"),
            ("企业标准“领跑者”申报", "开展标准指标对比分析，辅导企业申报企业标准“领跑者”。"),
            ("标准查新与有效性确认", "提供国内外标准查询、查新与企业执行标准有效性确认服务。"),
        ),
        qualifications=(("标准化服务机构备案证明", "FSBZ-20{yy}-{n3}", "佛山市市场监督管理局"), _ISO9001),
    ),
    "certification": Profile(
        firms=("认证服务有限公司", "认证咨询有限公司", "检测认证有限公司"),
        research=("认证技术中心",),
        focus="管理体系认证与产品认证",
        services=(
            (
                "ISO9001质量管理体系认证",
                "依据GB/T 19001开展质量管理体系认证审核，颁发认证证书并实施年度监督。",
            ),
            ("ISO14001环境管理体系认证", "依据GB/T 24001开展环境管理体系认证，帮助企业满足客户与环保要求。"),
            ("ISO45001职业健康安全管理体系认证", "依据GB/T 45001开展职业健康安全管理体系认证审核。"),
            ("CCC强制性产品认证代理", "协助企业办理CCC认证申请、型式试验送样与工厂检查。"),
            ("绿色产品认证", "依据绿色产品评价系列标准开展认证，助力产品进入政府绿色采购清单。"),
            ("CNAS实验室认可咨询", "辅导企业实验室依据CNAS-CL01建立管理体系，顺利通过认可评审。"),
            ("IATF16949汽车质量管理体系咨询", "为汽车零部件企业导入IATF16949体系与五大核心工具。"),
        ),
        qualifications=(("认证机构批准书", "CNCA-R-20{yy}-{n3}", "国家认证认可监督管理委员会"), _ISO9001),
    ),
    "inspection": Profile(
        firms=("检测技术有限公司", "检验检测有限公司", "检测认证有限公司"),
        research=("质量检验研究院", "质量计量监督检测中心", "分析测试中心"),
        focus="检验检测",
        services=(
            ("CMA检验检测报告", "出具加盖CMA标志的检验检测报告，可用于质量监督、招投标与产品验收。"),
            ("陶瓷砖检测", "依据GB/T 4100开展陶瓷砖吸水率、破坏强度、耐磨性与放射性等项目检测。"),
            ("食品接触材料检测", "开展食品接触用塑料、不锈钢、陶瓷制品的迁移量与感官指标检测。"),
            ("建筑材料检测", "提供水泥、混凝土、钢筋、建筑门窗与防水材料等检测服务。"),
            ("铝合金型材检测", "依据GB/T 5237开展铝合金建筑型材力学性能、膜厚与耐腐蚀检测。"),
            ("家具产品检测", "开展家具甲醛释放量、力学性能、稳定性与阻燃性能检测。"),
            ("纺织服装检测", "提供纤维含量、色牢度、pH值与甲醛含量等检测项目。"),
            ("环境监测", "开展废水、废气、噪声与土壤环境监测，出具CMA监测报告。"),
        ),
        qualifications=(_CMA, _CNAS),
        lab=True,
    ),
    "quality-management": Profile(
        firms=("质量管理咨询有限公司", "管理咨询有限公司", "质量技术服务有限公司"),
        research=("质量发展研究中心",),
        focus="质量管理与质量提升",
        services=(
            ("卓越绩效管理模式导入", "依据GB/T 19580导入卓越绩效管理模式，开展自评与改进。"),
            ("政府质量奖申报辅导", "辅导企业申报佛山市政府质量奖、广东省政府质量奖，编写自评报告。"),
            ("精益生产与六西格玛", "开展黄带、绿带培训与项目辅导，降低不良率与生产成本。"),
            ("QC小组活动辅导", "指导企业开展质量管理小组活动，参加质量管理小组成果发表。"),
            ("首席质量官培训", "围绕质量战略、质量风险与质量成本，培养企业首席质量官。"),
            ("产品质量提升诊断", "开展质量现状诊断，分析质量损失，提出质量提升方案与措施。"),
        ),
        qualifications=(("质量管理体系审核员注册证书", "CCAA-20{yy}-QMS-{n4}", "中国认证认可协会"), _ISO9001),
    ),
    "special-equipment": Profile(
        firms=("特种设备检测有限公司", "特种设备检验技术有限公司", "电梯检测技术有限公司"),
        research=("特种设备检测研究院", "特种设备检验中心"),
        focus="特种设备检验检测",
        services=(
            ("电梯定期检验", "依据TSG T7001开展电梯监督检验与定期检验，出具检验报告。"),
            ("压力容器定期检验", "开展储气罐、反应釜、换热器等压力容器的定期检验与安全评定。"),
            ("锅炉定期检验", "开展工业锅炉内部检验、外部检验与水（介）质检测。"),
            ("起重机械检验", "对桥式、门式起重机及电动葫芦开展定期检验与安全评估。"),
            ("压力管道检验", "开展工业管道、公用管道的定期检验与壁厚测定。"),
            ("安全阀校验", "开展安全阀离线与在线校验，出具校验报告，保障压力系统安全。"),
            ("场（厂）内专用机动车辆检验", "对叉车等场（厂）内专用机动车辆开展定期检验。"),
        ),
        qualifications=(("特种设备检验检测机构核准证", "TS71{n5}-20{yy}", "国家市场监督管理总局"), _CNAS),
        lab=True,
    ),
    "coding": Profile(
        firms=("信息技术有限公司", "物联网科技有限公司", "数码科技有限公司"),
        research=("物品编码服务中心",),
        focus="商品条码与编码追溯",
        services=(
            ("商品条码注册代办", "协助企业办理中国商品条码系统成员注册、续展与变更。"),
            ("GS1编码与产品追溯", "基于GS1标准建立产品追溯体系，实现一物一码、全程可查。"),
            ("二维码防伪溯源系统", "为产品赋码，建设防伪查询与渠道管控系统。"),
            ("条码印刷质量检测", "依据GB/T 14258检测条码符号印制质量并分级，避免扫码失败退货。"),
            ("商品信息数据服务", "整理并上报商品主数据，对接电商平台与商超系统。"),
        ),
        qualifications=(("中国商品条码系统成员证书", "物编注字第{n6}号", "中国物品编码中心"),),
    ),
    "intellectual-property": Profile(
        firms=(
            "知识产权代理有限公司",
            "专利代理事务所（普通合伙）",
            "商标事务所有限公司",
            "知识产权服务有限公司",
        ),
        research=("知识产权信息服务中心", "知识产权研究中心"),
        focus="商标注册与专利申请代理",
        services=(
            ("商标注册", "提供商标查询、注册申请、续展、转让及驳回复审等全流程代理服务。"),
            ("发明专利申请", "技术交底、专利检索、申请文件撰写与审查意见答复全流程代理。"),
            ("实用新型与外观设计专利申请", "快速办理实用新型与外观设计专利申请，保护产品结构与外观创新。"),
            ("专利导航与布局分析", "围绕企业核心技术开展专利检索分析，规划专利布局，规避侵权风险。"),
            ("知识产权贯标", "依据GB/T 29490辅导企业建立知识产权管理体系并通过认证。"),
            ("知识产权维权", "提供侵权分析、证据保全、行政投诉与诉讼支持服务。"),
            ("PCT国际专利申请", "代理PCT国际专利申请与进入国家阶段，助力产品出海。"),
        ),
        qualifications=(
            ("专利代理机构执业许可证", "44{n3}", "国家知识产权局"),
            ("商标代理机构备案证明", "TM20{yy}{n5}", "国家知识产权局"),
        ),
    ),
    "branding": Profile(
        firms=("品牌策划有限公司", "品牌管理有限公司", "文化传播有限公司"),
        research=("品牌研究中心",),
        focus="品牌策划与品牌培育",
        services=(
            ("品牌战略规划", "梳理品牌定位、品牌架构与传播策略，形成品牌建设三年规划。"),
            ("“佛山标准”产品认证辅导", "对照“佛山标准”产品评价规则开展差距分析，辅导企业获得认证。"),
            ("“广东优质”品牌申报", "辅导企业申报“广东优质”等区域品牌评价，提升产品公信力。"),
            ("品牌视觉识别设计", "提供标志、VI系统与产品视觉规范设计。"),
            ("品牌价值评价", "依据GB/T 29187开展品牌价值测算与评价，出具评价报告。"),
            ("老字号与地理标志培育", "协助传统品牌申报老字号与地理标志，挖掘品牌文化。"),
        ),
        qualifications=(_ISO9001,),
    ),
    "tech-finance": Profile(
        firms=("科技金融服务有限公司", "融资担保有限公司", "投资管理有限公司"),
        research=("科技金融服务中心",),
        focus="科技金融与融资对接",
        services=(
            ("知识产权质押融资", "协助企业以专利、商标质押获得银行贷款，对接风险补偿资金。"),
            ("“质量贷”融资对接", "以质量信用、认证证书和质量奖为增信，对接银行“质量贷”产品。"),
            ("科技型中小企业信贷对接", "帮助科技型中小企业入库评价，对接科技信贷与贴息政策。"),
            ("研发费用加计扣除咨询", "规范研发项目立项与费用归集，确保加计扣除政策应享尽享。"),
            ("股权融资与上市辅导", "提供商业计划书编制、投资机构对接与上市前规范辅导。"),
        ),
        qualifications=(("融资担保业务经营许可证", "粤{n6}", "广东省地方金融管理局"),),
    ),
    "training": Profile(
        firms=("职业培训学校", "教育咨询有限公司", "企业培训有限公司"),
        research=("继续教育学院", "质量技术培训中心"),
        focus="质量技术人才培训",
        services=(
            ("管理体系内审员培训", "开展ISO9001、ISO14001、ISO45001内审员培训，考核合格颁发证书。"),
            ("检验员与计量员培训", "系统讲授抽样检验、测量不确定度与计量基础，提升一线质检能力。"),
            ("标准化工程师培训", "讲授标准体系构建、标准编写规则与标准化法规。"),
            ("特种设备作业人员考前培训", "开展叉车、电梯、锅炉、压力容器等作业人员考前培训。"),
            ("实验室管理培训", "围绕CNAS-CL01与资质认定评审准则开展实验室管理培训。"),
            ("企业质量意识内训", "结合企业案例开展全员质量意识与质量工具内训。"),
        ),
        qualifications=(("民办学校办学许可证", "教民1444060{n5}号", "佛山市人力资源和社会保障局"),),
    ),
    "experts": Profile(
        firms=("技术服务有限公司", "科技咨询有限公司"),
        research=("技术创新中心", "产业技术研究院", "技术转移中心"),
        focus="专家诊断与技术咨询",
        services=(
            ("质量技术专家诊断", "组织行业专家深入生产现场，诊断质量问题并提出改进方案。"),
            ("产品失效分析", "运用金相、断口、成分与显微分析，查明产品失效原因并提出预防措施。"),
            ("技术攻关与联合研发", "针对企业关键共性技术难题组建专家团队，开展联合攻关。"),
            ("质量纠纷技术鉴定", "为质量纠纷提供技术分析与鉴定意见。"),
            ("项目评审与技术论证", "组织专家开展技改项目、新产品与新工艺的评审论证。"),
            ("产学研合作对接", "对接高校与科研院所，促成技术转让、委托开发与人才合作。"),
        ),
        qualifications=(_HNTE,),
    ),
    "equipment-sharing": Profile(
        firms=("新材料股份有限公司", "电器股份有限公司", "科技股份有限公司", "智能装备有限公司"),
        research=("大型仪器共享平台", "公共技术服务平台", "材料分析测试中心"),
        focus="大型仪器设备与实验室共享",
        services=(
            ("扫描电子显微镜共享", "提供场发射扫描电镜与能谱仪机时预约，配备专职操作人员。"),
            ("X射线荧光光谱仪共享", "提供XRF元素成分快速分析，适用于金属、陶瓷与矿物原料。"),
            ("三坐标测量机共享", "提供三坐标测量机机时服务，完成复杂零件尺寸与形位公差测量。"),
            ("电磁兼容暗室租用", "提供3米法半电波暗室机时租用与测试工程师支持。"),
            ("环境试验箱共享", "提供高低温湿热、盐雾与紫外老化试验箱共享使用。"),
            ("材料万能试验机共享", "提供拉伸、压缩、弯曲等力学性能试验机时服务。"),
            ("ICP-MS痕量元素分析", "提供电感耦合等离子体质谱仪共享，开展痕量重金属分析。"),
        ),
        qualifications=(_CNAS, _CMA),
        lab=True,
    ),
}

_CATEGORY_SLUGS = [c.slug for c in CATEGORIES]
_DISTRICT_NAMES = {d.slug: d.name for d in DISTRICTS}
_DISTRICT_WEIGHTS = {"chancheng": 24, "nanhai": 26, "shunde": 26, "gaoming": 7, "sanshui": 7, "outside": 10}

# Region codes (GB/T 2260) inside 统一社会信用代码.
_REGION = {
    "chancheng": "440604",
    "nanhai": "440605",
    "shunde": "440606",
    "sanshui": "440607",
    "gaoming": "440608",
}
_STREETS = {
    "chancheng": ("季华五路", "汾江中路", "岭南大道北", "魁奇一路", "绿景路", "张槎一路"),
    "nanhai": ("桂城街道南海大道北", "桂城街道海八路", "狮山镇科技大道", "大沥镇广佛路", "里水镇里官路"),
    "shunde": ("大良街道德和路", "容桂街道容奇大道", "北滘镇怡和路", "伦教街道新城路", "陈村镇佛陈路"),
    "gaoming": ("荷城街道沧江路", "荷城街道兴创路", "杨和镇高明大道"),
    "sanshui": ("西南街道广海大道", "乐平镇中心大道", "云东海街道永业路"),
}
_LANDLINE = {
    "chancheng": ("83", "82", "85"),
    "nanhai": ("86", "81"),
    "shunde": ("22", "23", "26", "28"),
    "gaoming": ("88",),
    "sanshui": ("87",),
}
# (city prefix for names, address prefix, region code, area code) for institutions outside Foshan.
_OUTSIDE = (
    ("广州", "广州市天河区天河北路", "440106", "020"),
    ("广州", "广州市番禺区市桥街道繁华路", "440113", "020"),
    ("深圳", "深圳市南山区科技园科苑路", "440305", "0755"),
    ("东莞", "东莞市松山湖园区工业西路", "441900", "0769"),
    ("中山", "中山市火炬开发区康乐大道", "442000", "0760"),
    ("江门", "江门市蓬江区建设路", "440703", "0750"),
)
_BRAND_CHARS = "华粤佛南顺信诚德正源科瑞恒安达通衡准鼎盛嘉美宏利泰丰禾智优创新维康汇博思睿联骏威腾凯"
_UNIVERSITIES = (
    "佛山科学技术学院",
    "顺德职业技术学院",
    "佛山职业技术学院",
    "广东工业大学",
    "华南理工大学",
    "华南师范大学",
    "暨南大学",
)
_INDUSTRIES = (
    "家电",
    "陶瓷",
    "铝型材",
    "家具",
    "纺织服装",
    "机械装备",
    "五金",
    "食品饮料",
    "照明",
    "新材料",
    "汽车零部件",
    "医疗器械",
    "电子信息",
    "涂料化工",
)
_CLOSINGS = (
    "坚持公正、科学、准确、高效的服务理念。",
    "致力于为企业提供一站式质量技术解决方案。",
    "服务响应及时，收费公开透明。",
)
_SURNAMES = "陈李黄梁何张冯林吴罗刘邓麦区杨周谢郭潘欧伍朱钟卢苏"
_GIVEN = "伟敏静丽强磊洁婷俊杰嘉欣晓志文慧健燕颖斌华明芳锦浩宇琳雯峰玲"
_MOBILE_PREFIXES = (
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "158",
    "159",
    "186",
    "188",
    "189",
    "133",
    "177",
    "180",
    "191",
    "199",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "176",
    "182",
    "187",
)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_SPACE = 31**7
_CODE_STEP = 19_260_817_003  # coprime with 31: i -> code is a permutation


def institutions(count: int, *, start: int = 0, seed: int = SEED) -> Iterator[InstitutionRecord]:
    """`count` demo institutions, numbers start … start+count-1; names do not repeat within a run."""
    seen: set[str] = set()
    for i in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + i)
        record = institution(i, rng)
        for _ in range(8):  # a name already used in this run: draw another brand
            if record.name not in seen:
                break
            record = institution(i, rng)
        seen.add(record.name)
        yield record


def institution(i: int, rng: random.Random) -> InstitutionRecord:
    """Demo institution number i; its primary category and district rotate so that every one appears."""
    primary = _CATEGORY_SLUGS[(i + _CATEGORY_SLUGS.index("inspection")) % len(_CATEGORY_SLUGS)]
    district = list(_DISTRICT_WEIGHTS)[(i + 2) % 6] if i < 6 else _weighted(rng, _DISTRICT_WEIGHTS)
    profile = PROFILES[primary]
    org_type = _org_type(rng, primary)
    outside = rng.choice(_OUTSIDE) if district == "outside" else None
    name = _name(rng, org_type, profile, district, outside)
    services = _services(rng, primary)
    opened_on = OPENED_FROM + timedelta(days=rng.randrange((OPENED_UNTIL - OPENED_FROM).days + 1))
    return InstitutionRecord(
        name=name,
        uscc=_uscc(i, org_type, district, outside),
        district=district,
        introduction=_introduction(rng, name, org_type, profile, district, services),
        phone=_landline(rng, district, outside),
        opened_on=opened_on,
        address=_address(rng, district, outside),
        legal_representative=_person(rng),
        org_type=org_type,
        services=services,
        qualifications=_qualifications(rng, profile, opened_on),
        agents=[
            AgentRecord(
                name=_person(rng),
                phone=_mobile(rng),
                hours=rng.choice(("工作日 8:00-18:00", "工作日 8:30-17:30", "周一至周六 9:00-18:00")),
            )
            for _ in range(rng.choice((1, 1, 2)))
        ],
    )


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _org_type(rng: random.Random, category: str) -> str:
    if category == "equipment-sharing":
        return _weighted(rng, {"enterprise": 5, "research": 3, "university": 2})
    if category in ("experts", "standards", "metrology", "inspection", "design", "special-equipment"):
        return _weighted(rng, {"professional": 14, "research": 4, "university": 2})
    return _weighted(rng, {"professional": 18, "research": 1, "university": 1})


def _brand(rng: random.Random) -> str:
    return "".join(rng.sample(_BRAND_CHARS, 2))


def _name(rng: random.Random, org_type: str, profile: Profile, district: str, outside: tuple | None) -> str:
    ending = rng.choice(profile.firms)
    city = outside[0] if outside else None
    if org_type == "university":
        university = rng.choice(_UNIVERSITIES)
        return f"{university}{rng.choice(profile.research)}"
    if org_type == "research":
        if city:
            return f"{city}{_brand(rng)}{rng.choice(profile.research)}"
        where = rng.choice(("佛山市", f"佛山市{_DISTRICT_NAMES[district]}", "广东省", "佛山"))
        return f"{where}{_brand(rng) if where in ('佛山', '广东省') else ''}{rng.choice(profile.research)}"
    if org_type == "enterprise" and "股份" not in ending:
        ending = rng.choice(("股份有限公司", "实业有限公司", "科技有限公司"))
    if city:
        return f"{'广东' if rng.random() < 0.4 else city + '市'}{_brand(rng)}{ending}"
    place = f"佛山市{_DISTRICT_NAMES[district]}" if rng.random() < 0.6 else "佛山市"
    return f"{place}{_brand(rng)}{ending}"


def _uscc(i: int, org_type: str, district: str, outside: tuple | None) -> str:
    """A valid 统一社会信用代码, unique per i: the organisation code is a permutation of i."""
    serial = (i * _CODE_STEP + 7_654_321) % _CODE_SPACE
    chars = []
    for _ in range(7):
        serial, digit = divmod(serial, 31)
        chars.append(_USCC_ALPHABET[digit])
    tail = "".join(reversed(chars))
    region = outside[2] if outside else _REGION[district]
    if org_type in ("university", "research"):
        # 12: registered by the staffing authority as a public institution (事业单位).
        return with_check_digit(f"12{'440000' if outside else '440600'}45{tail}")
    return with_check_digit(f"91{region}MA{tail}")


def _services(rng: random.Random, primary: str) -> list[ServiceRecord]:
    """2–3 featured items of the primary category, then 1–4 ordinary ones, some in a second category."""
    featured = rng.sample(PROFILES[primary].services, rng.choice((2, 3, 3)))
    items = [(primary, title, content) for title, content in featured]
    rest = [s for s in PROFILES[primary].services if s not in featured]
    ordinary = rng.randint(1, 4)
    second = rng.choice([c for c in _CATEGORY_SLUGS if c != primary]) if rng.random() < 0.6 else None
    for _ in range(ordinary):
        category = second if second and rng.random() < 0.5 else primary
        pool = (
            rest
            if category == primary
            else [s for s in PROFILES[second].services if (second, *s) not in items]
        )
        if not pool:
            continue
        title, content = rng.choice(pool)
        if category == primary:
            rest.remove((title, content))
        items.append((category, title, content))
    return [
        ServiceRecord(category=category, title=title, content=content, featured=n < len(featured), position=n)
        for n, (category, title, content) in enumerate(items)
    ]


def _introduction(
    rng: random.Random,
    name: str,
    org_type: str,
    profile: Profile,
    district: str,
    services: list[ServiceRecord],
) -> str:
    founded = rng.randint(1985, 2021)
    if district == "outside":
        where = "在佛山设有服务网点，可为佛山企业提供上门服务"
    else:
        where = f"位于佛山市{_DISTRICT_NAMES[district]}"
    kind = {
        "professional": rng.choice(("专业第三方服务机构", "国家高新技术企业", "综合性技术服务机构")),
        "university": "依托高校学科优势建设的技术服务平台",
        "research": rng.choice(("公益性技术服务机构", "新型研发机构", "省级技术服务平台")),
        "enterprise": "行业骨干企业，其实验室面向社会开放共享",
    }[org_type]
    staff = rng.randint(12, 260)
    if profile.lab:
        area, devices = rng.randint(8, 120) * 100, rng.randint(60, 900)
        facility = f"实验室面积{area}平方米，拥有各类仪器设备{devices}台（套）"
    else:
        facility = f"核心团队具有{rng.randint(5, 20)}年以上行业经验，其中中高级职称人员{max(3, staff // 4)}人"
    industries = "、".join(rng.sample(_INDUSTRIES, 3))
    highlights = "、".join(s.title for s in services if s.featured)
    return (
        f"{name}成立于{founded}年，{where}，是一家{kind}，主要从事{profile.focus}服务。"
        f"机构现有员工{staff}人，{facility}。"
        f"优势服务项目包括{highlights}。"
        f"近年来累计为佛山{industries}等行业{rng.randint(3, 60) * 10}余家企业提供服务，"
        f"{rng.choice(_CLOSINGS)}"
    )


def _qualifications(rng: random.Random, profile: Profile, opened_on: date) -> list[QualificationRecord]:
    chosen = rng.sample(profile.qualifications, rng.randint(1, len(profile.qualifications)))
    result = []
    for name, pattern, issuer in chosen:
        issued = opened_on - timedelta(days=rng.randint(30, 1500))
        if rng.random() < 0.03:  # a few have lapsed since
            valid_until = date(2024, 1, 1) + timedelta(days=rng.randrange(1000))
        else:
            valid_until = date(2027, 1, 1) + timedelta(days=rng.randrange(1800))
        number = pattern.format(
            yy=f"{issued.year % 100:02d}",
            n3=f"{rng.randrange(1000):03d}",
            n4=f"{rng.randrange(10**4):04d}",
            n5=f"{rng.randrange(10**5):05d}",
            n6=f"{rng.randrange(10**6):06d}",
        )
        result.append(QualificationRecord(name=name, number=number, issuer=issuer, valid_until=valid_until))
    return result


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice((1, 2, 2))))


def _mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _landline(rng: random.Random, district: str, outside: tuple | None) -> str:
    if outside:
        area = outside[3]
        return f"{area}-{rng.randint(2, 8)}{rng.randrange(10**7):07d}"
    return f"0757-{rng.choice(_LANDLINE[district])}{rng.randrange(10**6):06d}"


def _address(rng: random.Random, district: str, outside: tuple | None) -> str:
    if outside:
        return f"{outside[1]}{rng.randint(1, 300)}号"
    return f"佛山市{_DISTRICT_NAMES[district]}{rng.choice(_STREETS[district])}{rng.randint(1, 200)}号"
