"""Phone numbers: validating mainland mobile numbers and masking numbers shown to the public."""

import re

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normalize(value: str) -> str:
    """Drop spaces, dashes and a +86 prefix."""
    digits = re.sub(r"[\s\-()（）]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def is_mobile(value: str) -> bool:
    return bool(_MOBILE.match(normalize(value)))


def is_contact_number(value: str) -> bool:
    """A mobile, or a landline with its area code (0757-83301234): what an institution publishes."""
    number = normalize(value)
    return is_mobile(number) or bool(_LANDLINE.match(number))


def mask(value: str) -> str:
    """138****1234 for a mobile; for other numbers keep the first 3 and last 4 digits likewise."""
    digits = normalize(value)
    if not digits:
        return ""
    if len(digits) <= 7:
        return digits[:1] + "*" * (len(digits) - 1)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
