"""How good the directory search is, measured over judged queries (not guessed).

Over `qzt demo --count N` (default 1000) on a throw-away SQLite database, each query below is run through
qzt.directory.search.search, and its top 5 compared with what a person asking it would expect. A
judgment names what the person means: groups of words, each group satisfied by any of its words (电梯检验:
电梯, and 检验 or 检测), looked for in the institution's own text, never through the search code.
Grade 2: the name or a featured service title says it all; grade 1: the institution's text does (all its
services, introduction, qualifications); else 0.

Printed: per query the grades of the top 5, then nDCG@5 (graded, 1.0 = the best order possible) and
hits@3 (a relevant institution among the first three), averaged over the queries that have a relevant
institution in the data. `make bench` runs it; README keeps the figures before and after a change.

Usage: .venv/bin/python bench/search_quality.py [--count 1000] [--verbose]
"""

import argparse
import math
import os
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"


@dataclass(frozen=True)
class Judged:
    query: str
    need: tuple[tuple[str, ...], ...]  # every group, by any of its words


def J(query: str, *need: str) -> Judged:  # noqa: N802 - reads as a table row
    """J("电梯检验", "电梯", "检验|检测"): each argument after the query a group, words split by |."""
    return Judged(query, tuple(tuple(group.split("|")) for group in need))


JUDGED: tuple[Judged, ...] = (
    J("电梯检验", "电梯", "检验|检测"),
    J("电梯检测", "电梯", "检验|检测"),
    J("家电检测", "家电|家用电器", "检测|检验|测试"),
    J("家电安全测试", "家电|家用电器", "安全", "测试|检测"),
    J("锅炉检验", "锅炉", "检验|检测"),
    J("压力容器检验", "压力容器", "检验|检测"),
    J("起重机械", "起重机械"),
    J("特种设备检验", "特种设备|电梯|锅炉|压力容器|起重机械", "检验|检测"),
    J("计量校准", "计量|校准", "校准|检定"),
    J("仪器校准", "仪器|设备", "校准"),
    J("计量器具检定", "计量器具", "检定"),
    J("压力表检定", "压力表|计量器具", "检定|校准"),
    J("净含量检验", "净含量"),
    J("3C认证", "3c|ccc|强制性产品认证"),
    J("CCC认证代理", "ccc|3c|强制性产品认证", "代理|认证"),
    J("强制性产品认证", "ccc|3c|强制性产品认证"),
    J("质量管理体系认证", "质量管理体系|iso9001|iso 9001", "认证"),
    J("ISO9001", "iso9001|iso 9001|质量管理体系"),
    J("环境管理体系", "环境管理体系|iso14001"),
    J("CNAS实验室认可", "cnas", "认可"),
    J("CMA资质", "cma|资质认定"),
    J("商标注册", "商标", "注册"),
    J("专利申请", "专利", "申请"),
    J("发明专利", "发明专利|专利"),
    J("知识产权维权", "知识产权", "维权"),
    J("知识产权质押融资", "质押|融资", "知识产权|质押"),
    J("高新技术企业认定", "高新技术企业"),
    J("专精特新", "专精特新"),
    J("数字化转型", "数字化"),
    J("工业设计", "工业设计|设计"),
    J("外观设计", "外观设计|外观"),
    J("电磁兼容测试", "电磁兼容|emc"),
    J("EMC", "emc|电磁兼容"),
    J("可靠性试验", "可靠性"),
    J("RoHS检测", "rohs|有害物质"),
    J("能效测试", "能效"),
    J("出口认证", "出口|ce|ul"),
    J("团体标准", "标准"),
    J("标准化培训", "标准化", "培训"),
    J("商品条码", "条码"),
    J("产品追溯", "追溯"),
    J("品牌培育", "品牌"),
    J("质量贷", "质量贷|融资|信贷"),
    J("内审员培训", "内审员|内审", "培训"),
    J("特种设备作业人员培训", "特种设备", "培训"),
    J("卓越绩效", "卓越绩效"),
    J("六西格玛", "六西格玛|精益"),
    J("失效分析", "失效分析"),
    J("电镜共享", "显微镜|电镜", "共享"),
    J("陶瓷砖检测", "陶瓷", "检测|检验"),
    J("食品接触材料", "食品接触"),
    J("供应商审核", "供应商", "审核|评级"),
    J("jiliang", "计量"),
    J("jl", "计量"),
    J("jianyan", "检验"),
    J("记量校准", "计量|校准", "校准|检定"),
    J("顺德检测", "顺德", "检测|检验"),
)


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def grade(judged: Judged, institution) -> int:
    """What a person would think of this institution for the query, from its own text."""
    featured = " ".join([institution.name] + [s.title for s in institution.services if s.featured])
    everything = " ".join(
        [institution.name, institution.introduction or "", institution.district_name]
        + [f"{s.category_name} {s.title} {s.content or ''}" for s in institution.services]
        + [q.name for q in institution.qualifications]
    )

    def says(text: str) -> bool:
        text = fold(text)
        return all(any(fold(word) in text for word in group) for group in judged.need)

    return 2 if says(featured) else 1 if says(everything) else 0


def ndcg(grades: list[int], ideal: list[int], k: int = 5) -> float:
    def dcg(values: list[int]) -> float:
        return sum(g / math.log2(i + 2) for i, g in enumerate(values[:k]))

    best = dcg(sorted(ideal, reverse=True))
    return dcg(grades) / best if best else 0.0


def measure(count: int, verbose: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from qzt import create_app
    from qzt.directory.search import Filters, search
    from qzt.extensions import db
    from qzt.models import Institution, ListingState

    app = create_app()
    with app.app_context():
        everyone = db.session.scalars(
            db.select(Institution).where(Institution.listing_state == ListingState.LISTED)
        ).all()
        scores, hits, skipped = [], [], []
        for judged in JUDGED:
            ideal = [g for g in (grade(judged, i) for i in everyone) if g]
            if not ideal:
                skipped.append(judged.query)
                continue
            top = search(Filters(q=judged.query), 1, 5).items
            grades = [grade(judged, i) for i in top]
            scores.append(ndcg(grades, ideal))
            hits.append(any(grades[:3]))
            if verbose:
                print(
                    f"  {judged.query:<16} top 5 grades {grades}"
                    f"  relevant {len(ideal)}  nDCG@5 {scores[-1]:.2f}"
                )
    print(
        f"judged queries: {len(scores)} (no relevant institution in the data: {', '.join(skipped) or 'none'})"
    )
    print(f"nDCG@5 {sum(scores) / len(scores):.3f}   hits@3 {sum(hits) / len(hits):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--verbose", action="store_true", help="every query's grades")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QZT_", "DATABASE_URL"))}
        env |= {"QZT_INSTANCE_PATH": scratch, "SECRET_KEY": "bench"}
        flask = [str(BIN / "flask"), "--app", "app"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run(
            [*flask, "qzt", "demo", "--count", str(args.count)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        os.environ.update(env)
        measure(args.count, args.verbose)


if __name__ == "__main__":
    main()
