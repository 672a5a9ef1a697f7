"""Complaint, spot-check and credit rules (qzt.rules.complaints, qzt.rules.supervision), without an app."""

from datetime import date

import pytest

from qzt.rules import complaints, supervision


def test_annex2_item2_deducts_above_three_substantiated_complaints():
    assert not complaints.item2_deducts(3)
    assert complaints.item2_deducts(4)


def test_annex2_item2_a_complaint_counts_in_the_cycle_it_was_filed_in():
    start, end = date(2026, 7, 6), date(2027, 7, 6)
    assert complaints.counts_in_cycle(date(2026, 7, 6), start, end)
    assert complaints.counts_in_cycle(date(2027, 7, 5), start, end)
    assert not complaints.counts_in_cycle(date(2027, 7, 6), start, end)
    assert not complaints.counts_in_cycle(date(2026, 7, 5), start, end)


def test_annex2_item1_three_years_before_the_cycle_end():
    end = date(2027, 3, 1)
    assert supervision.credit_counts_for_item1(date(2027, 3, 1), end)
    assert supervision.credit_counts_for_item1(date(2024, 3, 2), end)
    assert not supervision.credit_counts_for_item1(date(2024, 3, 1), end)
    assert not supervision.credit_counts_for_item1(date(2027, 3, 2), end)


def test_annex2_item1_a_cycle_ending_on_29_february():
    end = date(2028, 2, 29)
    assert not supervision.credit_counts_for_item1(date(2025, 2, 28), end)
    assert supervision.credit_counts_for_item1(date(2025, 3, 1), end)


@pytest.mark.parametrize(
    "checked_on, result, rectify_by, message",
    [
        (date(2026, 3, 11), "passed", None, "不能晚于今天"),
        (date(2026, 3, 10), "maybe", None, "请选择抽查结果"),
        (date(2026, 3, 10), "rectify", None, "整改期限"),
        (date(2026, 3, 10), "rectify", date(2026, 3, 10), "整改期限"),
    ],
)
def test_art15_spot_check_is_refused_with_what_to_fix(checked_on, result, rectify_by, message):
    with pytest.raises(supervision.SpotCheckProblem, match=message):
        supervision.check_spot_check(checked_on, date(2026, 3, 10), result, rectify_by)


def test_art15_spot_check_results():
    supervision.check_spot_check(date(2026, 3, 10), date(2026, 3, 10), "rectify", date(2026, 3, 11))
    supervision.check_spot_check(date(2026, 3, 1), date(2026, 3, 10), "failed", None)
    assert list(supervision.SPOT_CHECK_RESULTS.values()) == ["合格", "限期整改", "不合格"]
