"""Annex 2: successful cases (item 6) and valid orders (note 2) an institution must reach each year.

Item 6: "入驻机构是否及时上报成功服务案例（每年上报服务案例不少于10个）".
Note 2: "检验检测、计量、特种设备等入驻机构第一年有效订单不少于20单，第二年不少于30单，第三年不少于50单；
认证认可、标准、知识产权、质量管理、编码、品牌培育、设备共享及其他入驻机构每年有效订单不少于5单。"
An institution with items in both groups meets the stricter one. "第三年" and every later year: 50. A
valid order (有效订单) is a deal from a platform consultation that the enterprise confirmed.
"""

CASES_PER_YEAR = 10
STRICT_CATEGORIES = ("inspection", "metrology", "special-equipment")
STRICT_ORDERS = (20, 30, 50)  # the first, second, and third and later years of service
OTHER_ORDERS = 5


def required_orders(categories: set[str] | list[str], year_of_service: int) -> int:
    """Valid orders the institution must reach in its `year_of_service` (1 for the first year)."""
    if year_of_service < 1:
        raise ValueError("year_of_service counts from 1")
    if set(categories) & set(STRICT_CATEGORIES):
        return STRICT_ORDERS[min(year_of_service, len(STRICT_ORDERS)) - 1]
    return OTHER_ORDERS


def add_years(day, years: int):
    """The same date `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def service_year(opened_on, today) -> tuple[int, object, object]:
    """Which year of service `today` falls in, counted from the service-opening date, and its bounds
    [start, end): (1, opened_on, opened_on + 1 year) in the first year. Before opening: the first year."""
    n = 1
    while add_years(opened_on, n) <= today:
        n += 1
    return n, add_years(opened_on, n - 1), add_years(opened_on, n)
