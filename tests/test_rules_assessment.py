"""Assessment cycles (Art. 16), without an app."""

from datetime import date

import pytest

from qzt.rules.assessment import add_months, current_cycle, cycle, ended_cycles


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
