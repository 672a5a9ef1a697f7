"""SQLAlchemy models, one module per aggregate."""

from qzt.models.application import (
    Application,
    ApplicationRevision,
    ApplicationState,
    StoredFile,
)
from qzt.models.assessment import AnnualSummary, Assessment, AssessmentItem, AssessmentState
from qzt.models.audit import AuditRecord
from qzt.models.consultation import (
    CaseReport,
    CaseState,
    Consultation,
    ConsultationMessage,
    ConsultationState,
    DealState,
    Enterprise,
    FollowUpState,
    Rating,
    Side,
)
from qzt.models.institution import (
    ChangeState,
    HomepageChange,
    Institution,
    ListingState,
    OrgType,
    Qualification,
    SearchDocument,
    ServiceAgent,
    ServiceItem,
)
from qzt.models.job import BackgroundJob, JobState
from qzt.models.notification import DeliveryState, Notification
from qzt.models.pledge import AppendOnlyError, PledgeSignature
from qzt.models.review import CalendarCorrection, WithdrawalRequest, WithdrawalState
from qzt.models.site import BucketTally, DirectoryTally, SiteState
from qzt.models.supervision import Complaint, ComplaintState, CreditRecord, ExpulsionNotice, SpotCheck
from qzt.models.user import OneTimeCode, PhoneCode, Role, User
from qzt.models.wechat import WechatIdentity

__all__ = [
    "BackgroundJob",
    "JobState",
    "AnnualSummary",
    "Assessment",
    "AssessmentItem",
    "AssessmentState",
    "Complaint",
    "ComplaintState",
    "CreditRecord",
    "ExpulsionNotice",
    "SpotCheck",
    "FollowUpState",
    "Rating",
    "ChangeState",
    "HomepageChange",
    "CaseReport",
    "CaseState",
    "DealState",
    "Consultation",
    "ConsultationMessage",
    "ConsultationState",
    "Enterprise",
    "Side",
    "SiteState",
    "DirectoryTally",
    "BucketTally",
    "AuditRecord",
    "CalendarCorrection",
    "DeliveryState",
    "Notification",
    "WithdrawalRequest",
    "WithdrawalState",
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
    "OneTimeCode",
    "PhoneCode",
    "Role",
    "SearchDocument",
    "ServiceAgent",
    "ServiceItem",
    "User",
    "WechatIdentity",
]
