"""Grounding: the class -> word table, the bonus, the person gate, n-gram blocking, the verdict."""

from pathlib import Path

import pytest
import torch

from captioning.beam_search import beam_search
from captioning.concepts import ConceptTable, TableError
from captioning.grounding import Evidence, Grounding, GroundingSettings
from captioning.vocabulary import SPECIALS, Vocabulary
from tests.helpers import tiny_decoder

SHIPPED = Path("model_weights/flickr8k")
WORDS = ["dog", "cat", "man", "runs", "grass"]  # ids 4..8 of the tiny vocabulary
D = 8


def tiny_grounding(
    person_bias: float = -10.0, familiar: float = 1.0, **settings: float
) -> Grounding:
    """Classes 0 -> "cat" (animal), 1 -> website (text), 2 -> no word; person word "man";
    every class familiar to the person head (familiar=1.0) or none (0.0)."""
    vocab = Vocabulary([*SPECIALS, *WORDS])
    rows = [("n0", "tabby cat", "cat", "animal"), ("n1", "website", "", "text")]
    rows += [(f"n{i}", f"class {i}", "", "object") for i in range(2, 1000)]
    table = ConceptTable.from_rows(rows)  # type: ignore[arg-type]
    weight = torch.zeros(1000, D)
    weight[0, 0], weight[1, 1] = 20.0, 20.0  # feature 0 says cat, feature 1 says website
    return Grounding(
        weight,
        torch.zeros(1000),
        torch.zeros(1000),
        torch.tensor([person_bias]),
        torch.full((1000,), familiar),
        table,
        vocab,
        ["man"],
        GroundingSettings(**settings),  # type: ignore[arg-type]
    )


def photo_features(cat: float = 0.0, website: float = 0.0, n: int = 1) -> torch.Tensor:
    torch.manual_seed(0)
    feats = torch.randn(n, 4, D) * 0.1
    feats[:, :, 0] += cat
    feats[:, :, 1] += website
    return feats


def test_shipped_table_has_every_class_and_the_expected_words() -> None:
    table = ConceptTable.load(SHIPPED)
    assert len(table.words) == 1000
    vocab = set(Vocabulary.load(SHIPPED / "vocab.json").words)
    assert all(word in vocab for word in table.words if word)
    assert all(table.words[i] == "cat" for i in range(281, 286))  # the domestic cats
    assert all(table.words[i] == "dog" for i in range(151, 269))  # the dog breeds
    assert table.words[24] == "bird"  # great grey owl
    assert table.kinds[916] == "text"  # website
    assert table.kinds[963] == "food"  # pizza


def test_table_loader_refuses_a_table_with_a_missing_row(tmp_path: Path) -> None:
    lines = (SHIPPED / "imagenet_words.tsv").read_text().splitlines()
    (tmp_path / "imagenet_words.tsv").write_text("\n".join(lines[:500] + lines[501:]) + "\n")
    with pytest.raises(TableError):
        ConceptTable.load(tmp_path)


def test_confident_concept_gets_a_bonus_an_unconfident_one_none() -> None:
    grounding = tiny_grounding()
    cat = Vocabulary([*SPECIALS, *WORDS]).index["cat"]
    evidence = grounding.evidence(torch.cat([photo_features(cat=1.0), photo_features()]))
    assert evidence.probs[0, 0] > 0.99 and evidence.probs[1, 0] < 0.01
    bonus, _ = grounding.decoding_bias(evidence)
    assert bonus[0, cat] > 0
    assert bonus[1].abs().sum() == 0  # nothing is asked for on the photo nobody recognised


def test_bonus_word_appears_once_and_unconfident_photo_is_decoded_plainly() -> None:
    decoder = tiny_decoder(vocab_size=9, feature_dim=D, seed=5)
    feats = photo_features(n=2)
    plain = beam_search(decoder, feats, beam_size=3, max_length=6)
    word = next(w for w in range(4, 9) if w not in plain[0][0].tokens)
    bonus = torch.zeros(2, 9)
    bonus[0, word] = 5.0
    steered = beam_search(decoder, feats, beam_size=3, max_length=6, bonus=bonus)
    assert steered[0][0].tokens.count(word) >= 1
    assert steered[1][0].tokens == plain[1][0].tokens  # no bonus: the same caption
    # the score reported is the caption's log-probability, without the bonus
    assert steered[0][0].score <= plain[0][0].score + 1e-6


def test_banned_words_are_never_said() -> None:
    decoder = tiny_decoder(vocab_size=9, feature_dim=D, seed=5)
    feats = photo_features(n=3)
    plain = beam_search(decoder, feats, beam_size=3, max_length=6)
    said = {w for beams in plain for beam in beams for w in beam.tokens}
    ban = torch.zeros(3, 9, dtype=torch.bool)
    ban[:, list(said)[:2]] = True
    for beams in beam_search(decoder, feats, beam_size=3, max_length=6, ban=ban):
        for beam in beams:
            assert not set(beam.tokens) & set(list(said)[:2])


def trigrams(tokens: list[int]) -> list[tuple[int, ...]]:
    return [tuple(tokens[i : i + 3]) for i in range(len(tokens) - 2)]


def test_trigram_blocking_stops_repeats() -> None:
    repeating = 0
    for seed in range(6):
        decoder = tiny_decoder(vocab_size=7, feature_dim=D, seed=seed)
        feats = torch.randn(4, 4, D)
        plain = beam_search(decoder, feats, beam_size=3, max_length=20)
        blocked = beam_search(decoder, feats, beam_size=3, max_length=20, block_ngram=3)
        for beams in plain:
            grams = trigrams(beams[0].tokens)
            repeating += len(grams) != len(set(grams))
        for beams in blocked:
            for beam in beams:
                grams = trigrams(beam.tokens)
                assert len(grams) == len(set(grams)), beam.tokens
    assert repeating > 0  # the tiny decoders do repeat themselves without blocking


def test_grounded_batch_equals_one_by_one() -> None:
    decoder = tiny_decoder(vocab_size=9, feature_dim=D, seed=2)
    feats = torch.randn(5, 4, D)
    bonus = torch.zeros(5, 9)
    bonus[torch.arange(5), torch.tensor([4, 5, 6, 7, 8])] = 3.0
    ban = torch.zeros(5, 9, dtype=torch.bool)
    ban[::2, 6] = True
    batch = beam_search(decoder, feats, 3, 12, bonus=bonus, ban=ban, block_ngram=3)
    for b in range(5):
        one = beam_search(
            decoder,
            feats[b : b + 1],
            3,
            12,
            bonus=bonus[b : b + 1],
            ban=ban[b : b + 1],
            block_ngram=3,
        )
        assert [x.tokens for x in batch[b]] == [x.tokens for x in one[0]]
        for x, y in zip(batch[b], one[0], strict=True):
            assert abs(x.score - y.score) < 1e-5


def test_person_words_need_evidence_of_a_person() -> None:
    man = Vocabulary([*SPECIALS, *WORDS]).index["man"]
    feats, cat = photo_features(n=1), photo_features(cat=1.0)

    def banned(person_bias: float, photo: torch.Tensor) -> bool:
        grounding = tiny_grounding(person_bias=person_bias)
        _, ban = grounding.decoding_bias(grounding.evidence(photo))
        return bool(ban[0, man])

    assert banned(-5.0, feats)  # P(person) 0.01
    assert not banned(1.4, feats)  # P(person) 0.8
    # beside a confident cat, 0.75 is not enough for the person the head imagined; 0.99 is
    assert not banned(1.1, feats)  # P(person) 0.75
    assert banned(1.1, cat)
    assert not banned(5.0, cat)


def test_an_unfamiliar_photo_needs_more_evidence_of_a_person() -> None:
    man = Vocabulary([*SPECIALS, *WORDS]).index["man"]
    feats = photo_features()

    def banned(person_bias: float, familiar: float) -> bool:
        grounding = tiny_grounding(person_bias=person_bias, familiar=familiar)
        evidence = grounding.evidence(feats)
        assert float(evidence.familiar[0]) == pytest.approx(familiar, abs=1e-5)
        _, ban = grounding.decoding_bias(evidence)
        return bool(ban[0, man])

    assert not banned(1.4, familiar=1.0)  # P(person) 0.8 on a photo like the head's own
    assert banned(1.4, familiar=0.0)  # the same 0.8 on classes the head never saw: its prior
    assert not banned(2.5, familiar=0.0)  # 0.92 is enough


def test_verdict_tags_and_doubt() -> None:
    grounding = tiny_grounding()
    feats = torch.cat([photo_features(cat=1.0), photo_features(website=1.0), photo_features()])
    cat, website, unknown = grounding.judge(grounding.evidence(feats), [-2.0, -0.5, -2.0])
    assert cat.tags[0][0] == "tabby cat" and cat.doubt is None  # recognised: not a guess
    assert website.doubt == "text"
    assert unknown.tags == [] and unknown.doubt == "unfamiliar"
    sure = grounding.judge(grounding.evidence(photo_features()), [-0.2])[0]
    assert sure.doubt is None  # the decoder is sure, though the classifier is not


def test_evidence_is_the_same_whatever_the_batch() -> None:
    grounding = tiny_grounding(person_bias=0.0)
    feats = torch.randn(4, 4, D)
    together = grounding.evidence(feats)
    for b in range(4):
        alone = grounding.evidence(feats[b : b + 1])
        assert torch.allclose(alone.probs, together.probs[b : b + 1], atol=1e-6)
        assert torch.allclose(alone.person, together.person[b : b + 1], atol=1e-6)
    assert isinstance(together, Evidence)
