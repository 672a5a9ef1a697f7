"""Counters the whole site shares."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from qzt.extensions import db


class SiteState(db.Model):
    """One row per key; `directory` counts changes to what the public directory shows."""

    __tablename__ = "site_state"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
