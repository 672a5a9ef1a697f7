"""Phone numbers: one canonical form for every number the platform keeps or looks up, validated by
Google's libphonenumber (phonenumbers), and masked where the public sees them.

Before anything else a number is normalized: NFKC (full-width ５ becomes 5), separators and a +86 or 0086
prefix dropped, digits of other scripts (Arabic-Indic ٥) read as the digits they are. So 1390000000５ and
13900000005 are the same account, never two look-alike ones. Mobiles are kept as their 11 digits,
landlines as 0757-83301234.
"""

import re
import unicodedata

import phonenumbers

_SEPARATORS = re.compile(r"[\s\-()（）.·]")
_EXTENSION = re.compile(r"^(?P<main>0[\d\s\-()（）]{9,14}?)\s*(?:-|转|分机)(?P<ext>\d{1,6})$")
_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def normalize(value: str) -> str:
    """The canonical form: a mobile's 11 ASCII digits, a landline as 0757-83301234 (-801 for an
    extension); anything that is not a valid number comes back NFKC-normalized without separators (and
    fails is_mobile)."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    extension = _EXTENSION.match(text)
    if extension and _parse(_SEPARATORS.sub("", extension["main"])) is not None:
        return f"{normalize(extension['main'])}-{extension['ext']}"
    text = _SEPARATORS.sub("", text)
    number = _parse(text)
    if number is None:
        return text
    national = str(number.national_number)
    if phonenumbers.number_type(number) in _MOBILE_TYPES:
        return national
    area = phonenumbers.length_of_geographical_area_code(number)
    return f"0{national[:area]}-{national[area:]}" if area else f"0{national}"


def _parse(text: str) -> phonenumbers.PhoneNumber | None:
    if not text or len(text) > 20:
        return None
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    return number


def is_mobile(value: str) -> bool:
    number = _parse(normalize(value).replace("-", ""))
    return number is not None and phonenumbers.number_type(number) in _MOBILE_TYPES


def is_contact_number(value: str) -> bool:
    """A mobile, or a landline with its area code (0757-83301234, an extension allowed): what an
    institution publishes."""
    canonical = normalize(value)
    return _parse(canonical.replace("-", "")) is not None or _parse(canonical.rsplit("-", 1)[0]) is not None


def mask(value: str) -> str:
    """138****1234 for a mobile; for other numbers keep the first 3 and last 4 digits likewise."""
    digits = re.sub(r"\D", "", normalize(value))
    if not digits:
        return ""
    if len(digits) <= 7:
        return digits[:1] + "*" * (len(digits) - 1)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
