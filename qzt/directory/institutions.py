"""Writing imported and demo institutions: plain records in, rows and search documents out.

The functions flush and never commit; the caller (the CLI) commits once, so a file is imported
entirely or not at all.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from qzt.core import clock, pagecache
from qzt.data.catalog import CATEGORY_NAMES
from qzt.directory.search import optimize_index, retally, tag_terms
from qzt.extensions import db
from qzt.models import (
    Institution,
    ListingState,
    Qualification,
    SearchDocument,
    ServiceAgent,
    ServiceItem,
    User,
)
from qzt.models.institution import InstitutionRecord, ServiceRecord, display_order, institution_columns
from qzt.rules.search_query import ServiceText, document_terms

_CHUNK = 1000  # rows per bulk statement, and codes per IN (...) list


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def import_listed(records: list[InstitutionRecord]) -> ImportResult:
    """Create each record as a listed institution, or update the one with the same 统一社会信用代码.

    An update replaces name, district, introduction, phone, opening date and the service items;
    an applicant (pending) becomes listed, other states are kept (an import does not undo a
    withdrawal or an expulsion, Art. 12, 17).
    """
    existing = _by_uscc([r.uscc for r in records])
    created = updated = 0
    for record in records:
        institution = existing.get(record.uscc)
        if institution is None:
            institution = Institution(listing_state=ListingState.LISTED)
            db.session.add(institution)
            created += 1
        else:
            if institution.listing_state == ListingState.PENDING:
                institution.listing_state = ListingState.LISTED
            updated += 1
        institution.apply(record)  # the search document follows at flush (qzt.directory.search)
    db.session.flush()
    return ImportResult(created=created, updated=updated)


def _by_uscc(codes: list[str]) -> dict[str, Institution]:
    found: dict[str, Institution] = {}
    for start in range(0, len(codes), _CHUNK):
        stmt = (
            sa.select(Institution)
            .where(Institution.uscc.in_(codes[start : start + _CHUNK]))
            .options(selectinload(Institution.services), selectinload(Institution.qualifications))
        )
        found.update((i.uscc, i) for i in db.session.scalars(stmt))
    return found


def existing_usccs() -> set[str]:
    return set(db.session.scalars(sa.select(Institution.uscc)))


def analyze() -> None:
    """After a bulk load: fresh planner statistics (both engines know ANALYZE; without them the planner
    guesses table sizes and may scan where an index fits) and the search index compacted
    (qzt.directory.search.optimize_index)."""
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    optimize_index()


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Institution.id))) or 0


def bulk_create_listed(records: Iterable[InstitutionRecord]) -> list[int]:
    """Insert many new listed institutions with their children and search documents, in bulk.

    For demo data and benchmarks: executemany statements instead of one ORM object per row. The
    search documents hold exactly what qzt.directory.search.index_institution would write.
    """
    ids: list[int] = []
    records = iter(records)
    while chunk := list(islice(records, _CHUNK)):
        ids += _insert_chunk(chunk)
    pagecache.bump()  # bulk inserts bypass the ORM's flush events
    return ids


def _insert_chunk(chunk: list[InstitutionRecord]) -> list[int]:
    now = clock.now()
    rows = [
        {**institution_columns(r), "listing_state": ListingState.LISTED, "created_at": now, "updated_at": now}
        for r in chunk
    ]
    table = Institution.__table__
    result = db.session.execute(sa.insert(table).returning(table.c.id, table.c.uscc), rows)
    id_of = {uscc: id_ for id_, uscc in result}

    services, qualifications, agents, documents = [], [], [], []
    for r in chunk:
        institution_id = id_of[r.uscc]
        ordered = display_order(r.services)
        services += [
            {
                "institution_id": institution_id,
                "category": s.category,
                "title": s.title,
                "content": s.content,
                "featured": s.featured,
                "position": s.position,
            }
            for s in ordered
        ]
        qualifications += [
            {
                "institution_id": institution_id,
                "name": q.name,
                "number": q.number,
                "issuer": q.issuer,
                "valid_until": q.valid_until,
            }
            for q in r.qualifications or []
        ]
        agents += [
            {"institution_id": institution_id, "name": a.name, "phone": a.phone, "hours": a.hours}
            for a in r.agents or []
        ]
        qualification_names = [q.name for q in r.qualifications or []]
        terms = search_document(r.name, r.introduction, ordered, qualification_names, r.district)
        documents.append({"institution_id": institution_id, **terms})
    for model, values in (
        (ServiceItem, services),
        (Qualification, qualifications),
        (ServiceAgent, agents),
        (SearchDocument, documents),
    ):
        if values:
            db.session.execute(sa.insert(model.__table__), values)
    retally(db.session.connection(), [(d["institution_id"], "", d["tag_terms"]) for d in documents])
    return [id_of[r.uscc] for r in chunk]


def search_document(
    name: str,
    introduction: str,
    services: list[ServiceRecord],
    qualification_names: list[str],
    district: str | None,
) -> dict[str, str]:
    """The columns index_institution stores, from plain values (services in display order), for a listed
    institution; a test holds the two to the same result."""
    texts = [
        ServiceText(CATEGORY_NAMES.get(s.category, s.category), s.title, s.content or "", s.featured)
        for s in services
    ]
    name_terms, head, offered, body = document_terms(name, introduction or "", texts, qualification_names)
    tags = tag_terms(True, [s.category for s in services], district)  # bulk-created institutions are listed
    return {
        "name_terms": " ".join(name_terms),
        "head_terms": " ".join(head),
        "service_terms": " ".join(offered),
        "body_terms": " ".join(body + tags),
        "tag_terms": " ".join(sorted(tags)),
    }


def assign_agent(institution_id: int, user: User) -> None:
    """Make `user` the login of the institution's first customer-service agent (or of a new one)."""
    institution = db.session.get(Institution, institution_id)
    agent = institution.agents[0] if institution.agents else ServiceAgent(hours="工作日 8:00-18:00")
    agent.name, agent.phone, agent.user_id = user.name, user.phone, user.id
    if agent not in institution.agents:
        institution.agents.append(agent)
    db.session.flush()


def assign_owner(institution_id: int, user: User) -> None:
    """Make `user` the account that manages the institution."""
    db.session.get(Institution, institution_id).owner_id = user.id
    db.session.flush()
