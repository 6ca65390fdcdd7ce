"""The similar-case ranker on small literal collections: tokens, charge agreement, explanations,
full-text search, save/load and key passages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xietong.library import ranking
from xietong.library.ranking import Config, Doc, Index

THEFT_1 = "被告人张某趁夜间翻墙入户，盗窃被害人家中的笔记本电脑一台，价值人民币3000元，后销赃。"
THEFT_2 = "被告人李某多次在商场扒窃他人手机，窃得手机三部，经鉴定价值人民币5000元。"
HURT = "被告人王某因琐事与被害人发生争执，持木棍殴打被害人头部，致被害人轻伤二级。"
FRAUD = "被告人赵某虚构投资项目，骗取被害人钱款人民币十万元，用于挥霍。"


def _docs() -> list[Doc]:
    return [
        Doc("t1", ranking.tokens(THEFT_1), ("盗窃罪",), ("入户",), 3000.0),
        Doc("t2", ranking.tokens(THEFT_2), ("盗窃罪",), ("多次",), 5000.0),
        Doc("h1", ranking.tokens(HURT), ("故意伤害罪",)),
        Doc("f1", ranking.tokens(FRAUD), ("诈骗罪",), (), 100000.0),
    ]


def test_tokens_drop_stop_words_digits_punctuation_and_single_characters() -> None:
    words = ranking.tokens("经审理查明，被告人张某于2019年3月5日入户盗窃笔记本电脑1台。公诉机关提交了证据。")
    assert "盗窃" in words and "笔记本电脑" in words
    for dropped in ("经审理查明", "被告人", "公诉机关", "证据", "2019", "，", "。", "台", "年"):
        assert dropped not in words


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("盗窃罪", "盗窃罪", True),
        ("贩卖毒品罪", "贩卖、运输毒品罪", True),
        ("走私、贩卖、运输、制造毒品罪", "贩卖毒品罪", True),
        ("非法持有枪支罪", "非法持有、私藏枪支、弹药罪", True),
        ("受贿罪", "非国家工作人员受贿罪", False),
        ("非法持有毒品罪", "走私、贩卖、运输、制造毒品罪", False),
        ("盗窃罪", "抢劫罪", False),
    ],
)
def test_same_charge_reads_selective_charges(a: str, b: str, same: bool) -> None:
    assert ranking.same_charge(a, b) is same
    assert ranking.same_charge(b, a) is same


def test_similar_ranks_same_charge_first_and_explains() -> None:
    index = Index.build(_docs())
    query = "被告人孙某入户盗窃被害人家中手机一部，价值人民币2000元。"
    matches = index.similar(query, k=4)
    assert [m.id for m in matches[:2]] == ["t1", "t2"]
    assert matches[0].score > matches[1].score > matches[2].score
    why = matches[0].why
    assert why["predicted_charges"][0]["charge"] == "盗窃罪"
    assert why["predicted_charges"][0]["share"] > 0.5  # the other neighbours share the rest
    assert why["shared_charges"] == ["盗窃罪"]
    assert "盗窃" in why["shared_terms"]
    assert why["amounts"] == {"query_yuan": 2000.0, "doc_yuan": 3000.0}
    assert why["summary"].startswith("同为盗窃罪")
    assert matches[2].why["shared_charges"] == []
    assert matches[2].why["summary"].startswith("罪名不同")


def test_charge_votes_lift_a_case_with_the_predicted_charge_over_a_lexical_neighbour() -> None:
    # d2 shares more words with the query than t2 but was judged for another charge; the two theft
    # neighbours out-vote it, so with charges on t2 overtakes d2, and plain BM25 keeps d2 ahead.
    docs = [
        Doc("t1", ["盗窃", "手机", "商场", "价值"], ("盗窃罪",)),
        Doc("t3", ["盗窃", "手机", "商场", "销赃"], ("盗窃罪",)),
        Doc("t2", ["扒窃", "钱包"], ("盗窃罪",)),
        Doc("d2", ["手机", "商场", "钱包", "争执"], ("寻衅滋事罪",)),
        Doc("x", ["交通", "肇事", "逃逸"], ("交通肇事罪",)),
    ]
    query = "盗窃 手机 商场 钱包"
    plain = Index.build(docs, config=Config(use_charges=False)).similar(query, k=5)
    with_charges = Index.build(docs, config=Config(vote_depth=3)).similar(query, k=5)
    plain_ids = [m.id for m in plain]
    ids = [m.id for m in with_charges]
    assert plain_ids.index("d2") < plain_ids.index("t2")
    assert ids.index("t2") < ids.index("d2")


def test_charge_named_in_the_query_is_a_sure_vote() -> None:
    index = Index.build(_docs())
    predicted = index.predict_charges("被告人涉嫌诈骗罪", np.zeros(len(index)))
    assert predicted == {"诈骗罪": 1.0}
    assert ranking.named_charges("以合同诈骗罪追究", {"诈骗罪", "合同诈骗罪"}) == ["合同诈骗罪"]


def test_similar_excludes_ids_and_handles_small_or_empty_collections() -> None:
    index = Index.build(_docs())
    matches = index.similar(THEFT_1, k=10, exclude={"t1"})
    assert "t1" not in [m.id for m in matches] and len(matches) == 3
    assert Index.build([]).similar("盗窃", k=5) == []
    assert len(index) == 4 and index.ids() == ["t1", "t2", "h1", "f1"]


def test_search_needs_every_word_and_respects_the_mask() -> None:
    index = Index.build(_docs())
    rows, scores = index.search("盗窃 价值")
    assert [index.ids()[r] for r in rows] == ["t1"]
    rows, scores = index.search("被害人")
    assert {index.ids()[r] for r in rows} == {"t1", "h1", "f1"}
    assert list(scores) == sorted(scores, reverse=True)
    mask = np.array([False, True, True, True])
    rows, _ = index.search("被害人", allowed=mask)
    assert {index.ids()[r] for r in rows} == {"h1", "f1"}
    rows, _ = index.search("抢劫")
    assert len(rows) == 0


def test_save_and_load_give_the_same_ranking(tmp_path: Path) -> None:
    index = Index.build(_docs())
    path = tmp_path / "library.npz"
    index.save(path)
    again = Index.load(path)
    query = "被告人持刀殴打他人致轻伤"
    assert [(m.id, round(m.score, 9)) for m in again.similar(query)] == [
        (m.id, round(m.score, 9)) for m in index.similar(query)
    ]
    assert again.charges == index.charges and again.circumstances == index.circumstances


def test_passages_pair_the_sentences_that_say_the_same() -> None:
    query = "某日晚，被告人翻墙入户。盗窃笔记本电脑一台，价值3000元。后被抓获。"
    doc = "公诉机关指控如下。被告人王某于深夜翻墙入户；盗窃笔记本电脑两台，价值5000元。被害人谅解。"
    pairs = ranking.passages(query, doc, n=3)
    assert pairs == [
        ("盗窃笔记本电脑一台，价值3000元", "盗窃笔记本电脑两台，价值5000元"),
        ("某日晚，被告人翻墙入户", "被告人王某于深夜翻墙入户"),
    ]
    assert ranking.passages("", doc) == []


def _library() -> list[Doc]:
    """A library where theft and hurt cases each have their own words (their elements)."""
    theft = [
        ["盗窃", "秘密", "窃取", "手机", "价值"],
        ["盗窃", "窃取", "钱包", "商场"],
        ["入户", "盗窃", "窃取", "电脑"],
    ]
    hurt = [["殴打", "轻伤", "木棍", "争执"], ["殴打", "轻伤", "头部"], ["持刀", "殴打", "轻伤", "争执"]]
    return [Doc(f"t{i}", t, ("盗窃罪",)) for i, t in enumerate(theft)] + [
        Doc(f"h{i}", t, ("故意伤害罪",)) for i, t in enumerate(hurt)
    ]


def test_charge_model_predicts_from_the_words_and_learns_element_keywords(tmp_path: Path) -> None:
    model = ranking.ChargeModel.build(_library())
    assert len(model) == 2
    predicted = model.predict(["盗窃", "窃取", "手机"])
    assert predicted[0][0] == "盗窃罪" and predicted[0][1] > 0.9
    assert sum(share for _, share in predicted) == pytest.approx(1.0)
    assert model.predict("被告人殴打被害人致轻伤")[0][0] == "故意伤害罪"
    assert model.predict(["不认识的词"]) == []
    assert set(model.keywords["盗窃罪"][:2]) == {"窃取", "盗窃"}  # in every theft case and no other
    path = tmp_path / "charges.npz"
    model.save(path)
    again = ranking.ChargeModel.load(path)
    assert again.predict(["殴打", "手机"]) == model.predict(["殴打", "手机"])
    assert again.keywords == model.keywords
    assert len(ranking.ChargeModel.build([])) == 0


def test_library_charge_model_outweighs_a_collection_dominated_by_another_charge() -> None:
    # The collection is mostly hurt cases that share the query's incidental words; its neighbours
    # vote 故意伤害罪, the library's model knows the facts describe a theft.
    collection = [
        Doc("h1", ["手机", "商场", "争执", "殴打"], ("故意伤害罪",)),
        Doc("h2", ["手机", "商场", "殴打", "轻伤"], ("故意伤害罪",)),
        Doc("h3", ["手机", "商场", "头部"], ("故意伤害罪",)),
        Doc("t9", ["窃取", "电脑"], ("盗窃罪",)),
    ]
    query = "窃取 手机 商场 争执"
    index = Index.build(collection, config=Config(vote_depth=3))
    alone = [m.id for m in index.similar(query, k=4)]
    model = ranking.ChargeModel.build(_library())
    matches = index.similar(query, k=4, charge_model=model)
    assert alone[0] != "t9"
    assert matches[0].id == "t9"
    assert matches[0].why["predicted_charges"][0]["charge"] == "盗窃罪"
    assert matches[0].why["shared_elements"] == ["窃取"]


def test_query_reduction_keeps_the_rarest_words() -> None:
    docs = [Doc(str(i), ["常见", f"罕见{i}"], ("盗窃罪",)) for i in range(6)]
    index = Index.build(docs, config=Config(query_terms=1))
    cols, _, words = index._query(ranking.Counter(["常见", "常见", "罕见3"]), reduce=True)
    assert words == ["罕见3"] and len(cols) == 1
    _, _, every = index._query(ranking.Counter(["常见", "罕见3"]), reduce=False)
    assert set(every) == {"常见", "罕见3"}


def test_charge_model_from_indexes_equals_the_model_built_from_documents() -> None:
    docs = [*_library(), Doc("u", ["无罪", "释放"], ())]
    built = ranking.ChargeModel.build(docs)
    halves = [Index.build(docs[:4]), Index.build(docs[4:])]
    read = ranking.ChargeModel.from_indexes(halves)
    for words in (["盗窃", "手机"], ["殴打", "争执"], ["窃取", "轻伤", "商场"]):
        assert [(c, round(s, 6)) for c, s in read.predict(words)] == [
            (c, round(s, 6)) for c, s in built.predict(words)
        ]
    assert read.keywords == built.keywords
