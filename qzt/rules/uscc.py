"""统一社会信用代码 (GB 32100-2015): 18 characters with a check digit, via python-stdnum."""

from stdnum.cn import uscc as _uscc
from stdnum.exceptions import ValidationError


def normalize(value: str) -> str:
    return _uscc.compact(value or "").upper()


def problem(value: str) -> str | None:
    """A Chinese message saying what is wrong with the code, or None when it is valid."""
    code = normalize(value)
    if not code:
        return "请填写统一社会信用代码"
    if len(code) != 18:
        return f"统一社会信用代码应为18位，当前为{len(code)}位"
    try:
        _uscc.validate(code)
    except ValidationError:
        return "统一社会信用代码无效：校验位不符或含有不允许的字符，请核对营业执照"
    return None


def is_valid(value: str) -> bool:
    return problem(value) is None


def with_check_digit(first17: str) -> str:
    """Complete 17 characters into a valid code (used by demo data and tests)."""
    return first17 + _uscc.calc_check_digit(first17)
