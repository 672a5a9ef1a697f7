"""Ratings and negative-review follow-up (Art. 15; Annex 2 item 10).

Art. 15: "线上平台运维机构将及时处理客户的反馈服务质量相关问题、特别是对于差评要跟踪处理". A rating of
NEGATIVE_AT or less is a 差评: the institution answers with what it did (跟进说明) within
FOLLOW_UP_WORKING_DAYS working days, the operator records its own follow-up, and the enterprise says whether
it is satisfied (item 10: "机构服务差评跟进处理后是否满意"). A homepage shows the average rating once it
has SHOWN_FROM ratings, so that one or two early ones do not define an institution.
"""

STARS = (1, 2, 3, 4, 5)
NEGATIVE_AT = 2
FOLLOW_UP_WORKING_DAYS = 5
SHOWN_FROM = 5


def is_negative(stars: int) -> bool:
    return stars <= NEGATIVE_AT


def shown_average(stars: list[int]) -> float | None:
    """The homepage's average, rounded to one decimal; None below SHOWN_FROM ratings."""
    if len(stars) < SHOWN_FROM:
        return None
    return round(sum(stars) / len(stars), 1)
