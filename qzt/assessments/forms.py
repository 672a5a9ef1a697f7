"""Assessment forms. The review form's ten rows (radios `item-N`, reasons `reason-N`) are read by
`decisions`; its CSRF token and buttons are an EmptyForm."""

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import SelectField

from qzt.assessments.services import Decision
from qzt.core.forms import LongText
from qzt.rules.assessment import ITEM_NUMBERS

DEDUCTS = {"yes": True, "no": False}
REASON_MAX = 1000


def decisions(formdata: MultiDict) -> list[Decision]:
    """The operator's [是]/[否] and reason per item; an unchosen radio is None."""
    return [
        Decision(
            n,
            DEDUCTS.get(formdata.get(f"item-{n}", "")),
            formdata.get(f"reason-{n}", "").strip()[:REASON_MAX],
        )
        for n in ITEM_NUMBERS
    ]


class ReturnForm(FlaskForm):
    """[退回修改] with the authority's reason."""

    note = LongText("退回理由", max_length=2000)


class FilterForm(FlaskForm):
    """The list's filters, from the query string."""

    class Meta:
        csrf = False

    year = SelectField("考核年度", validate_choice=False)
    number = SelectField("考核周期", validate_choice=False)
    state = SelectField("状态", validate_choice=False)
