"""Form pieces every area uses: the button-only form, optimistic-locking versions, lenient parsers.

Values a person can get wrong are parsed here, at the edge, never in views or services: a field that
does not parse yields None (the service then says what is missing), never an exception.
"""

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, IntegerField, SelectChoice, StringField, TextAreaField
from wtforms.widgets import TextInput

from qzt.rules.values import parse_date

MAX_TEXT = 5000


class EmptyForm(FlaskForm):
    """A POST that is only a button: the CSRF token and nothing else."""


class LenientInteger(IntegerField):
    """An integer, or None when blank or not a number (the service says what the value must be)."""

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "").strip()
        self.data = int(raw) if raw.isdigit() and len(raw) < 10 else None


class LenientDate(Field):
    """A YYYY-MM-DD date, or None when blank or not a date."""

    widget = TextInput(input_type="date")

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = parse_date(self.raw)

    def _value(self):
        return getattr(self, "raw", None) or (self.data.isoformat() if self.data else "")


class _Trimmed:
    """Free text, trimmed and cut at a length no column holds more of."""

    def __init__(self, label=None, max_length: int = MAX_TEXT, **kwargs):
        super().__init__(label, **kwargs)
        self.max_length = max_length

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = (self.data or "").strip()[: self.max_length]


class Text(_Trimmed, StringField):
    """A line of text, trimmed."""


class LongText(_Trimmed, TextAreaField):
    """A textarea's text, trimmed."""


def choices(*pairs: tuple[str, str]) -> list[SelectChoice]:
    """A select's options, the empty "请选择" first."""
    return [SelectChoice("", "请选择"), *(SelectChoice(value, label) for value, label in pairs)]


class VersionedForm(FlaskForm):
    """A change to an object under optimistic locking: the version the page showed comes back."""

    version = HiddenField()

    @property
    def seen_version(self) -> int | None:
        raw = self.version.data or ""
        return int(raw) if raw.isdigit() else None
