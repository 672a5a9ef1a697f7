"""Complaints (投诉, Art. 15, 17; Annex 2 item 2).

Art. 17: "入驻机构及其客服人员被服务对象投诉的，由线上平台运维机构进行核查，情节较重的，予以清退".
The regulation sets no time for the check. We give the operator VERIFY_WORKING_DAYS working days from
filing, the time 《市场监督管理投诉举报处理暂行办法》 gives a market-supervision office to decide on a
report; tick reminds the operators once when a check is overdue. Item 2 deducts its 20 points when more
than ITEM2_LIMIT complaints were found 属实 in the cycle ("经查实一年内的投诉件数是否大于3件"): a
complaint counts in the cycle in which it was filed.
"""

from datetime import date

VERIFY_WORKING_DAYS = 15
ITEM2_LIMIT = 3

# Where a complaint may be referred (移交, Art. 15): suspected violations to an administrative body,
# suspected crimes to the judiciary.
REFERRAL_KINDS = {
    "administrative": "行政机关（涉嫌违法）",
    "judicial": "司法机关（涉嫌犯罪）",
}


def item2_deducts(substantiated: int) -> bool:
    """Annex 2 item 2: more than three substantiated complaints in one cycle."""
    return substantiated > ITEM2_LIMIT


def counts_in_cycle(filed_on: date, cycle_start: date, cycle_end: date) -> bool:
    """A complaint belongs to the cycle it was filed in: start ≤ filed < end."""
    return cycle_start <= filed_on < cycle_end
