"""Counters the whole site shares."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from qzt.extensions import db


class SiteState(db.Model):
    """One row per key; `directory` counts changes to what the public directory shows."""

    __tablename__ = "site_state"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


class DirectoryTally(db.Model):
    """Listed institutions counted by `key`: LISTED_KEY for all of them, CATEGORY_PREFIX + slug for those
    offering a category. Kept by qzt.directory.search in the same transaction as every listing change,
    so the home page reads 18 rows instead of counting 100,000 institutions."""

    __tablename__ = "directory_tallies"

    LISTED_KEY = "listed"
    CATEGORY_PREFIX = "category:"

    key: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class BucketTally(db.Model):
    """Listed institutions holding a directory `term` (LISTED_TERM, or a filter's: category, district,
    both) among the ids of one `bucket` (institution_id // BUCKET_SIZE). Kept like DirectoryTally, so
    that a browsed page's total and the place of its first result are read, not counted: page 4,000 of
    the directory starts in the right bucket instead of skipping 80,000 rows."""

    __tablename__ = "directory_bucket_tallies"

    term: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(default=0)
