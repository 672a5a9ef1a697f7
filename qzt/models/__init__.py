"""SQLAlchemy models, one module per aggregate."""

from qzt.models.application import (
    Application,
    ApplicationRevision,
    ApplicationState,
    StoredFile,
)
from qzt.models.institution import (
    Institution,
    ListingState,
    OrgType,
    Qualification,
    SearchDocument,
    ServiceAgent,
    ServiceItem,
)
from qzt.models.pledge import AppendOnlyError, PledgeSignature
from qzt.models.user import Role, User

__all__ = [
    "AppendOnlyError",
    "Application",
    "ApplicationRevision",
    "ApplicationState",
    "PledgeSignature",
    "StoredFile",
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
