"""Plain rules without an app: the 统一社会信用代码 check digit, phone masking, multi-value cells."""

import pytest

from qzt.rules import phone, uscc
from qzt.rules.values import split_multi

VALID_USCC = "91440101MA59TLX5X9"  # a real-format code with a correct GB 32100 check digit


def test_art5_uscc_check_digit():
    assert uscc.problem(VALID_USCC) is None
    assert uscc.problem(uscc.with_check_digit("91440604MA0000001")) is None
    wrong = VALID_USCC[:-1] + ("0" if VALID_USCC[-1] != "0" else "1")
    assert "校验位" in uscc.problem(wrong)


@pytest.mark.parametrize(
    "value, message", [("", "请填写"), ("9144", "应为18位"), ("91440101MA59TLX5XI", "无效")]
)
def test_art5_uscc_messages_say_what_to_fix(value, message):
    assert message in uscc.problem(value)


def test_uscc_accepts_spaces_and_lower_case():
    assert uscc.is_valid(" " + VALID_USCC.lower() + " ")


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("13812341234", "138****1234"),
        ("+86 138-1234-1234", "138****1234"),
        ("0757-83301234", "075*****1234"),
        ("", ""),
    ],
)
def test_phone_masking(raw, masked):
    assert phone.mask(raw) == masked


@pytest.mark.parametrize(
    "raw, ok",
    [
        ("13800138000", True),
        ("+8613800138000", True),
        ("12800138000", False),
        ("1380013800", False),
        ("abc", False),
    ],
)
def test_mainland_mobile_numbers(raw, ok):
    assert phone.is_mobile(raw) is ok


def test_multi_value_cells_split_on_all_three_separators():
    assert split_multi("计量、标准;认证认可； 检验检测 ;") == ["计量", "标准", "认证认可", "检验检测"]
