"""Password policy (MLPS 2.0 level 2, 身份鉴别; OWASP ASVS 2.1), the same for every account, staff included:
at least 8 characters of at least 3 of the 4 kinds (lower case, upper case, digits, symbols), not one of
the 30,000 commonest passwords (zxcvbn's list, also with its case or trailing digits and symbols
changed), and not containing the account's phone number."""

import re

from zxcvbn.matching import RANKED_DICTIONARIES

MIN_LENGTH = 8
MAX_LENGTH = 128
KINDS = (
    (re.compile(r"[a-z]"), "小写字母"),
    (re.compile(r"[A-Z]"), "大写字母"),
    (re.compile(r"[0-9]"), "数字"),
    (re.compile(r"[^a-zA-Z0-9]"), "符号"),
)
KINDS_NEEDED = 3
HINT = "至少8位，包含小写字母、大写字母、数字、符号中的至少3种，不含手机号码"
_COMMON = RANKED_DICTIONARIES["passwords"]
_DECORATION = re.compile(r"[\d\W_]+$")


def problem(password: str, phone: str = "") -> str | None:
    """What is wrong with `password` for the account `phone`, in words that say what to do; None if fine."""
    rule = f"密码须至少{MIN_LENGTH}位，包含小写字母、大写字母、数字、符号中的至少{KINDS_NEEDED}种"
    if len(password) < MIN_LENGTH:
        return f"密码太短：{rule}"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过{MAX_LENGTH}位"
    if sum(1 for pattern, _name in KINDS if pattern.search(password)) < KINDS_NEEDED:
        return f"密码太简单：{rule}"
    if is_common(password):
        return "这是常见密码，很容易被猜中：请换一个不常见的密码"
    digits = re.sub(r"\D", "", phone or "")
    if digits and (digits in password or digits[-8:] in password):
        return "密码不能包含手机号码"
    return None


def is_common(password: str) -> bool:
    lowered = password.lower()
    stem = _DECORATION.sub("", lowered)
    return lowered in _COMMON or (len(stem) >= 4 and stem in _COMMON)
