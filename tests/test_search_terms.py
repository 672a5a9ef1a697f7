"""The tokenizer behind the directory search (qzt.rules.search_terms): no app, no database."""

from hypothesis import given
from hypothesis import strategies as st

from qzt.rules.search_terms import index_terms, query_terms


def matches(query: str, document: str) -> bool:
    terms = query_terms(query)
    return bool(terms) and set(terms) <= set(index_terms(document))


def test_two_character_queries_match_inside_longer_words():
    assert matches("检测", "佛山市检验检测认证有限公司")
    assert matches("计量", "广东省计量科学研究院")
    assert matches("认证", "认证认可服务")


def test_longer_han_queries_need_every_bigram():
    assert matches("检验检测", "检验检测机构资质认定")
    assert not matches("检验检测", "检验机构和检测设备")  # 验检 is missing


def test_single_han_character():
    assert matches("检", "检验")
    assert not matches("量", "检验")


def test_latin_tokens_ignore_case_and_width():
    assert matches("cma", "取得CMA资质认定")
    assert matches("ＣＮＡＳ", "CNAS认可实验室")  # full-width letters typed on a phone
    assert matches("ISO9001", "iso9001质量管理体系认证")


def test_latin_prefixes_match_while_typing():
    assert matches("cna", "CNAS认可")
    assert matches("iso 9001", "ISO9001认证")  # letters and digits are parts too


def test_mixed_query():
    assert matches("CMA 检测", "具备CMA资质的检验检测机构")
    assert not matches("CMA 计量", "具备CMA资质的检验检测机构")


def test_punctuation_only_gives_no_terms():
    assert query_terms("，。、！") == []
    assert query_terms("   ") == []


HAN = "计量检测认证标准质量管理佛山市有限公司"


@given(st.text(alphabet=HAN + "ABCabc0123 ", min_size=1, max_size=40))
def test_every_han_substring_and_every_word_prefix_matches(text):
    for start in range(len(text)):
        for end in range(start + 1, min(len(text), start + 6) + 1):
            piece = text[start:end]
            if all(ch in HAN for ch in piece):
                assert matches(piece, text), piece
    for word in text.split():
        latin = "".join(ch for ch in word if ch.isascii())
        if latin and latin in word and len(latin) >= 2:
            assert matches(latin[:2], text), latin
