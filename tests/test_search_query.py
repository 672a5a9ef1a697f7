"""What a query means (qzt.rules.search_query): words, synonyms, pinyin, marks, corrections. No app."""

from qzt.data.catalog import CATEGORY_NAMES
from qzt.rules.search_query import (
    ServiceText,
    correction,
    document_terms,
    highlight_spans,
    pinyin_terms,
    suggest_categories,
    vocabulary,
    words,
)


def texts(query: str) -> list[str]:
    return [word.text for word in words(query)]


def test_chinese_typed_without_spaces_is_cut_into_words():
    assert texts("电梯检验") == ["电梯", "检验"]
    assert texts("家电检测") == ["家电", "检测"]
    assert texts("电梯 检验") == texts("电梯检验")  # with or without the space


def test_the_fields_words_stay_whole():
    assert texts("检验检测") == ["检验检测"]
    assert texts("质量管理体系") == ["质量管理体系"]
    assert texts("特种设备检验") == ["特种设备", "检验"]


def test_a_long_field_word_is_one_index_term_a_short_word_its_bigrams():
    """A query for 质量管理体系 asks one list of documents, not the five of its bigrams (each held by
    a third of the directory); documents hold the word where their text does, in any field."""
    (word,) = words("质量管理体系")
    assert word.term_sets(with_synonyms=False) == [["质量管理体系"]]
    assert words("检测")[0].term_sets(with_synonyms=False) == [["检测"]]  # still finds 检验检测
    assert words("管理体系")[0].term_sets(with_synonyms=False) == [["管理", "理体", "体系"]]
    name, head, offered, body = document_terms(
        "佛山市甲认证有限公司",
        "开展质量管理体系认证。",
        [ServiceText("认证服务", "特种设备检验", "", True)],
        ["检验检测机构资质认定证书"],
    )
    assert "特种设备" in head and "特种设备" not in name
    assert "质量管理体系" in body and "质量管理体系" not in offered
    assert {"检验检测", "资质认定"} <= set(body) and "检测" in body and "质量" in body  # bigrams kept


def test_words_that_say_nothing_are_dropped_unless_nothing_else_is_left():
    assert texts("电梯的检验服务") == ["电梯", "检验"]
    assert texts("佛山") == ["佛山"]


def test_an_unknown_word_is_not_scattered_into_single_characters():
    assert texts("记量") == ["记量"]  # a wrong character from a pinyin keyboard
    assert texts("记量检测") == ["记量", "检测"]


def test_latin_words_are_case_and_width_folded():
    assert texts("ＣＭＡ 检测") == ["cma", "检测"]
    assert texts("ISO9001认证") == ["iso9001", "认证"]


def test_synonyms_of_the_field_stand_for_each_other():
    (word,) = words("3C")
    assert word.alternatives == ("3c", "ccc", "强制性产品认证")
    assert words("检定")[0].synonyms == ("校准",)
    assert words("计量")[0].synonyms == ()


def test_pinyin_and_initials_index_han_words():
    terms = pinyin_terms("佛山市计量检测所")
    assert {"jiliang", "jl", "jiance", "jc", "jiliangjiance"} <= set(terms)
    assert "jil" in terms  # found while still typing
    assert pinyin_terms("CMA") == []


def test_highlight_marks_words_and_synonyms_and_keeps_the_text():
    spans = highlight_spans("佛山市<b>计量</b>检验所", words("计量 检测"))
    assert "".join(piece for piece, _ in spans) == "佛山市<b>计量</b>检验所"
    assert [piece for piece, marked in spans if marked] == ["计量", "检验"]
    assert highlight_spans("ＣＭＡ资质", words("cma")) == [("ＣＭＡ", True), ("资质", False)]


def test_a_misspelt_word_is_corrected_to_the_field_word_it_sounds_like():
    known = vocabulary()
    assert correction("记量", known) == "计量"
    assert correction("特种设被", known) == "特种设备"
    assert correction("计量", known) is None  # already right
    assert correction("苹果", known) is None  # nothing close


def test_no_result_suggests_the_closest_categories():
    assert suggest_categories(words("电梯维修"), CATEGORY_NAMES)[0] == "special-equipment"
    assert suggest_categories(words("专利申请"), CATEGORY_NAMES)[0] == "intellectual-property"
    assert suggest_categories(words("苹果"), CATEGORY_NAMES) == []


def test_a_word_held_only_in_pieces_is_not_marked():
    assert highlight_spans("压力管道检验", words("压力容器")) == [("压力管道检验", False)]
