"""Grounding: the class -> word table, the rules a caption is checked by, the person gate, the
forced start, the hedged sentence, n-gram blocking, the verdict."""

from pathlib import Path

import pytest
import torch

from captioning.beam_search import beam_search
from captioning.bundle_config import SHIPPED_BUNDLE
from captioning.concepts import ConceptTable, TableError
from captioning.grounding import Evidence, Grounding, GroundingSettings, grounded_beam_search
from captioning.hedged import hedged_sentence
from captioning.vocabulary import SPECIALS, Vocabulary
from tests.helpers import tiny_decoder

SHIPPED = Path(__file__).resolve().parents[1] / SHIPPED_BUNDLE
WORDS = ["dog", "cat", "man", "runs", "grass", "a", "cats"]  # ids 4..10 of the tiny vocabulary
V = len(SPECIALS) + len(WORDS)
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


def test_a_confident_animal_is_the_subject_where_no_person_is() -> None:
    grounding = tiny_grounding()
    cat = Vocabulary([*SPECIALS, *WORDS]).index["cat"]
    evidence = grounding.evidence(torch.cat([photo_features(cat=1.0), photo_features()]))
    assert evidence.probs[0, 0] > 0.99 and evidence.probs[1, 0] < 0.01
    rules = grounding.rules(evidence)
    assert rules.subject.tolist() == [cat, -1]  # nothing is asked of the photo nobody recognised
    assert rules.lead.tolist() == [cat, -1]  # "a cat ...", where no caption names it
    # with a person in the photo, the caption need not be about the cat
    with_person = tiny_grounding(person_bias=10.0)
    assert with_person.rules(with_person.evidence(photo_features(cat=1.0))).subject.tolist() == [-1]


def test_a_prefix_starts_the_caption_and_free_photos_are_decoded_plainly() -> None:
    decoder = tiny_decoder(vocab_size=V, feature_dim=D, seed=5)
    feats = photo_features(n=2)
    plain = beam_search(decoder, feats, beam_size=3, max_length=6)
    prefix = torch.tensor([[9, 5], [-1, -1]])  # "a cat ...", and free
    led = beam_search(decoder, feats, beam_size=3, max_length=6, prefix=prefix)
    assert all(beam.tokens[:2] == [9, 5] for beam in led[0])
    assert [b.tokens for b in led[1]] == [b.tokens for b in plain[1]]


def captions_of(beams: list[list[int]]) -> set[tuple[int, ...]]:
    return {tuple(tokens) for tokens in beams}


def test_a_gated_person_word_never_leaves_a_caption_without_its_subject() -> None:
    """The person gate chooses among whole captions the decoder wrote (or starts one with what
    the classifier saw, or says what it saw): it never takes a word out of a sentence."""
    man = Vocabulary([*SPECIALS, *WORDS]).index["man"]
    checked = 0
    for seed in range(8):
        decoder = tiny_decoder(vocab_size=V, feature_dim=D, seed=seed)
        feats = torch.cat([photo_features(n=3), photo_features(cat=1.0, n=3)])
        grounding = tiny_grounding(person_bias=-10.0)  # nobody in any photo
        plain = beam_search(decoder, feats, 3, 8, block_ngram=2, block_echo=True)
        free = [captions_of([b.tokens for b in beams]) for beams in plain]
        prefix = torch.tensor([[9, 5]] * 6)
        led = beam_search(decoder, feats, 3, 8, prefix=prefix, block_ngram=2, block_echo=True)
        started = [captions_of([b.tokens for b in beams]) for beams in led]
        for b, choice in enumerate(grounded_beam_search(decoder, feats, 3, 8, 1.0, grounding)):
            for beam in choice.beams:
                assert man not in beam.tokens
                # a caption the decoder wrote whole: unchanged, or after the forced "a cat"
                assert tuple(beam.tokens) in free[b] | started[b]
            if not choice.beams:  # nothing held up: the hedged sentence of what was seen
                assert choice.things
            checked += any(man in tokens for tokens in free[b])
    assert checked > 0  # some of the tiny decoders' captions did name the person


def test_the_hedged_sentence_says_what_was_recognised() -> None:
    assert hedged_sentence(["stove"]) == "Probably a stove."
    assert hedged_sentence(["stove", "orange", "sink"]) == "Probably a stove, an orange and a sink."
    decoder = tiny_decoder(vocab_size=V, feature_dim=D, seed=1)
    grounding = tiny_grounding(person_bias=-10.0)
    grounding.leads[:] = False  # nothing to start a caption with
    grounding.person_ids = torch.arange(4, V)  # and every word a person: no caption holds up
    choice = grounded_beam_search(decoder, photo_features(cat=1.0), 3, 6, 1.0, grounding)[0]
    assert choice.beams == [] and choice.things[0][0] == "tabby cat"


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
    decoder = tiny_decoder(vocab_size=V, feature_dim=D, seed=2)
    feats = torch.cat([photo_features(n=2), photo_features(cat=1.0, n=2), torch.randn(2, 4, D)])
    grounding = tiny_grounding(person_bias=-1.0)
    batch = grounded_beam_search(decoder, feats, 3, 12, 1.0, grounding)
    for b in range(len(feats)):
        one = grounded_beam_search(decoder, feats[b : b + 1], 3, 12, 1.0, grounding)[0]
        assert [x.tokens for x in batch[b].beams] == [x.tokens for x in one.beams]
        assert batch[b].things == one.things
        for x, y in zip(batch[b].beams, one.beams, strict=True):
            assert abs(x.score - y.score) < 1e-5


def test_person_words_need_evidence_of_a_person() -> None:
    man = Vocabulary([*SPECIALS, *WORDS]).index["man"]
    feats, cat = photo_features(n=1), photo_features(cat=1.0)

    def banned(person_bias: float, photo: torch.Tensor) -> bool:
        grounding = tiny_grounding(person_bias=person_bias)
        return bool(grounding.rules(grounding.evidence(photo)).forbidden[0, man])

    assert banned(-5.0, feats)  # P(person) 0.01
    assert not banned(1.4, feats)  # P(person) 0.8
    # beside a confident cat, 0.5 is not enough for the person the head imagined; 0.99 is
    assert not banned(0.0, feats)  # P(person) 0.5
    assert banned(0.0, cat)
    assert not banned(5.0, cat)


def test_an_unfamiliar_photo_needs_more_evidence_of_a_person() -> None:
    man = Vocabulary([*SPECIALS, *WORDS]).index["man"]
    feats = photo_features()

    def banned(person_bias: float, familiar: float) -> bool:
        grounding = tiny_grounding(person_bias=person_bias, familiar=familiar)
        evidence = grounding.evidence(feats)
        assert float(evidence.familiar[0]) == pytest.approx(familiar, abs=1e-5)
        return bool(grounding.rules(evidence).forbidden[0, man])

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
