"""Review forms: claiming and the decision buttons (the state machine says which apply)."""

from qzt.core.forms import LenientDate, LenientInteger, LongText, VersionedForm


class ClaimForm(VersionedForm):
    """[领取]."""


class ActionForm(VersionedForm):
    """[要求补充材料] [安排实地调查] [记录调查结果] [建议通过] [建议不予通过] [批准入驻] [不予通过]."""

    message = LongText()
    deadline_days = LenientInteger()
    visit_on = LenientDate()


class TransferForm(VersionedForm):
    """[转交]: take over an application someone else has claimed; the reason goes to the audit log."""

    # Cut well above the 200 characters the service allows, so an over-long reason is refused, not cut.
    reason = LongText(max_length=1000)
