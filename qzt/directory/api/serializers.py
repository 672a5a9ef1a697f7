"""Institutions and catalog entries as plain JSON-ready dicts (the shapes documented in openapi.py).

Dates are ISO strings here: Flask's JSON provider would write them as HTTP dates. Phone numbers are
always masked, whoever asks: the API has no notion of an owner or staff member.
"""

from datetime import date

from qzt.core.http import external_url
from qzt.core.templating import highlight
from qzt.data.catalog import CATEGORY_NAMES, Choice
from qzt.models import Institution
from qzt.rules import phone


def choice(entry: Choice, count: int | None = None) -> dict:
    data = {"slug": entry.slug, "name": entry.name}
    if count is not None:
        data["count"] = count
    return data


def institution_summary(inst: Institution) -> dict:
    """An item of the listing: who, where, in which categories, offering what."""
    return {
        "id": inst.id,
        "name": inst.name,
        "district": inst.district,
        "categories": inst.category_slugs,
        "services": [{"title": s.title, "category": s.category} for s in inst.services],
        "url": external_url("directory.institution", institution_id=inst.id),
    }


def search_item(inst: Institution, words: tuple = ()) -> dict:
    """A listing item with its highlights: name and service titles as escaped HTML, the search's words
    in <mark>."""
    return {
        **institution_summary(inst),
        "highlights": {
            "name": str(highlight(inst.name, words)),
            "services": [str(highlight(s.title, words)) for s in inst.services],
        },
    }


def institution_detail(inst: Institution, today: date) -> dict:
    """Everything the public homepage shows, with every phone number masked."""
    data = institution_summary(inst)
    data["services"] = [
        {
            "title": s.title,
            "category": s.category,
            "category_name": s.category_name,
            "content": s.content or "",
            "featured": s.featured,
        }
        for s in inst.services
    ]
    data.update(
        district_name=inst.district_name,
        category_names=[CATEGORY_NAMES.get(slug, slug) for slug in data["categories"]],
        introduction=inst.introduction or "",
        opened_on=_iso(inst.opened_on),
        uscc=inst.uscc,
        address=inst.address,
        phone=phone.mask(inst.phone) if inst.phone else None,
        qualifications=[
            {
                "name": q.name,
                "number": q.number,
                "issuer": q.issuer,
                "valid_until": _iso(q.valid_until),
                "expired": q.is_expired(today),
            }
            for q in inst.qualifications
        ],
        agents=[{"name": a.name, "phone": phone.mask(a.phone), "hours": a.hours} for a in inst.agents],
    )
    return data


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
