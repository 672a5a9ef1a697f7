"""SQLAlchemy models, one module per aggregate."""

from qzt.models.institution import (
    Institution,
    ListingState,
    OrgType,
    Qualification,
    SearchDocument,
    ServiceAgent,
    ServiceItem,
)
from qzt.models.user import Role, User

__all__ = [
    "Institution",
    "ListingState",
    "OrgType",
    "Qualification",
    "Role",
    "SearchDocument",
    "ServiceAgent",
    "ServiceItem",
    "User",
]
