"""Assessment cycles (Art. 16), without an app."""

from datetime import date, timedelta

import pytest

from qzt.rules import assessment as sheet
from qzt.rules.assessment import add_months, current_cycle, cycle, ended_cycles
from qzt.rules.calendar import WorkCalendar
from qzt.rules.orders import required_orders


def test_art16_first_cycle_starts_six_months_after_opening_and_lasts_twelve():
    first = cycle(date(2025, 1, 6), 1)
    assert (first.start, first.end, first.last_day) == (date(2025, 7, 6), date(2026, 7, 6), date(2026, 7, 5))
    second = cycle(date(2025, 1, 6), 2)
    assert second.start == first.end and second.end == date(2027, 7, 6)


@pytest.mark.parametrize(
    "opened_on, starts",
    [
        (date(2024, 1, 31), [date(2024, 7, 31), date(2025, 7, 31), date(2026, 7, 31)]),
        (date(2024, 2, 29), [date(2024, 8, 29), date(2025, 8, 29), date(2026, 8, 29)]),
        # A short month never shifts later cycles: the last day of each February.
        (date(2023, 8, 31), [date(2024, 2, 29), date(2025, 2, 28), date(2026, 2, 28), date(2027, 2, 28)]),
    ],
)
def test_art16_cycle_edges_at_month_ends(opened_on, starts):
    assert [cycle(opened_on, n).start for n in range(1, len(starts) + 1)] == starts


def test_art16_adaptation_period_has_no_cycle():
    opened = date(2026, 1, 15)
    assert current_cycle(opened, date(2026, 7, 14)) is None
    assert current_cycle(opened, date(2026, 7, 15)).number == 1
    assert current_cycle(opened, date(2027, 7, 15)).number == 2


def test_art16_a_cycle_has_ended_on_its_end_day():
    opened = date(2025, 1, 6)
    assert ended_cycles(opened, date(2026, 7, 5)) == []
    assert [c.number for c in ended_cycles(opened, date(2026, 7, 6))] == [1]
    assert [c.number for c in ended_cycles(opened, date(2028, 1, 1))] == [1, 2]


def test_art16_withdrawn_during_a_cycle_leaves_that_cycle_unassessed():
    opened = date(2025, 1, 6)
    assert [c.number for c in ended_cycles(opened, date(2028, 1, 1), left_on=date(2027, 3, 1))] == [1]
    assert [c.number for c in ended_cycles(opened, date(2028, 1, 1), left_on=date(2027, 7, 6))] == [1, 2]


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    with pytest.raises(ValueError):
        cycle(date(2026, 1, 1), 0)


# --- the score sheet (Annex 2) ---


def test_annex2_has_ten_items_with_the_printed_deductions():
    assert [(i.number, i.deduction) for i in sheet.ITEMS] == [
        (1, 10), (2, 20), (3, 10), (4, 10), (5, 10), (6, 10), (7, 10), (8, 10), (9, 10), (10, 10),
    ]  # fmt: skip
    assert sheet.ITEMS[1].content == "经查实一年内的投诉件数是否大于3件"
    assert sheet.ITEMS[1].requirement == "扣20分"


def test_annex2_score_is_100_minus_deductions_never_below_zero():
    assert sheet.score([]) == 100
    assert sheet.score([2]) == 80
    assert sheet.score([1, 3, 3]) == 80  # an item deducts once
    assert sheet.score(range(1, 11)) == 0  # the deductions add up to 110
    assert sheet.score(range(2, 11)) == 0
    assert sheet.score(range(3, 11)) == 20


def test_annex2_note1_pass_line_at_60():
    assert sheet.passed(60) and not sheet.passed(59)
    assert sheet.result_label(100) == "合格" and sheet.result_label(0) == "不合格"
    assert sheet.passed(sheet.score([3, 4, 5, 6])) and not sheet.passed(sheet.score([2, 3, 4, 5]))


@pytest.mark.parametrize(
    "categories, year, required",
    [
        ({"inspection"}, 1, 20),
        ({"metrology"}, 2, 30),
        ({"special-equipment"}, 3, 50),
        ({"inspection"}, 7, 50),
        ({"certification"}, 1, 5),
        ({"standards", "branding"}, 3, 5),
        ({"inspection", "branding"}, 1, 20),  # both groups: the stricter one
    ],
)
def test_annex2_note2_valid_orders_per_year_of_the_cycle(categories, year, required):
    assert required_orders(categories, year) == required


def test_art14_item8_average_of_working_day_replies_above_two_hours_deducts():
    hours = [timedelta(hours=h) for h in (1, 3)]
    assert not sheet.replies_not_timely(hours, 0)  # an average of exactly 2 hours meets it
    assert sheet.replies_not_timely([*hours, timedelta(hours=2, minutes=1)], 0)
    assert not sheet.replies_not_timely([], 0)


def test_art14_item8_one_day_off_question_answered_late_deducts():
    assert sheet.replies_not_timely([timedelta(minutes=5)], 1)


def test_art16_summary_window_is_the_last_month_and_15_working_days_after():
    c = cycle(date(2025, 1, 6), 1)  # 2025-07-06 to 2026-07-05
    opens, closes = sheet.summary_window(c, WorkCalendar())
    assert opens == date(2026, 6, 6)
    assert closes == date(2026, 7, 24)  # 15 working days after Sunday 5 July 2026
