"""Spot checks (抽查, Art. 15) and credit records (Art. 5; Annex 2 item 1).

Art. 15: "不定期对入驻机构的服务情况进行抽查". A spot check ends 合格, 限期整改 or 不合格; 限期整改 sets
a deadline after the check, and the check stays open until staff record the re-check (复查). tick tells
the institution RECTIFY_REMINDER_DAYS before the deadline and the operators once it has passed.

Item 1 ("近三年内有无违法违规行为、是否被列入经营异常名录、严重违法失信名单或受到1项及以上行政处罚")
reads the credit records dated within CREDIT_LOOKBACK_YEARS years before the cycle's end: after the
same day three years earlier, up to and including the end (a 29 February start falls on 28 February).
"""

from datetime import date

from qzt.rules.orders import add_years

SPOT_CHECK_RESULTS = {"passed": "合格", "rectify": "限期整改", "failed": "不合格"}
RECHECK_RESULTS = {"rectified": "整改完成", "not_rectified": "未完成整改"}
RECTIFY_REMINDER_DAYS = 3

CREDIT_KINDS = {
    "penalty": "行政处罚",
    "abnormal_list": "经营异常名录",
    "dishonesty_list": "严重违法失信名单",
    "violation": "其他违法违规行为",
}
CREDIT_LOOKBACK_YEARS = 3


class SpotCheckProblem(ValueError):
    """What is wrong with a spot check as recorded, in Chinese."""


def check_spot_check(checked_on: date, today: date, result: str, rectify_by: date | None) -> None:
    """A spot check is dated no later than today; a 限期整改 needs a deadline after the check."""
    if checked_on > today:
        raise SpotCheckProblem("抽查日期不能晚于今天")
    if result not in SPOT_CHECK_RESULTS:
        raise SpotCheckProblem("请选择抽查结果：合格、限期整改或不合格")
    if result == "rectify" and (rectify_by is None or rectify_by <= checked_on):
        raise SpotCheckProblem("限期整改须填写晚于抽查日期的整改期限")


def credit_counts_for_item1(recorded_on: date, cycle_end: date) -> bool:
    """Annex 2 item 1: dated within the three years up to the cycle's end."""
    return add_years(cycle_end, -CREDIT_LOOKBACK_YEARS) < recorded_on <= cycle_end
