import itertools

import torch

from captioning.beam_search import beam_search
from captioning.vocabulary import Vocabulary
from tests.helpers import tiny_decoder

WORDS = [4, 5, 6]  # the tiny vocabulary's real words; 0-3 are <pad> <start> <end> <unk>


@torch.no_grad()
def sequence_logp(decoder, feats: torch.Tensor, tokens: list[int]) -> float:  # type: ignore[no-untyped-def]
    h, c, proj = decoder.init_state(feats)
    previous, total = Vocabulary.start, 0.0
    for token in tokens:
        logits, h, c, _ = decoder.step(torch.tensor([previous]), feats, proj, h, c)
        total += float(logits.log_softmax(-1)[0, token])
        previous = token
    return total


def brute_force(decoder, feats: torch.Tensor, max_length: int) -> list[tuple[list[int], float]]:  # type: ignore[no-untyped-def]
    """Every caption up to max_length, scored as beam search scores them, best first."""
    scored = []
    for n in range(0, max_length + 1):
        for words in itertools.product(WORDS, repeat=n):
            ended = n < max_length
            tokens = [*words, Vocabulary.end] if ended else list(words)
            if not tokens:
                continue
            logp = sequence_logp(decoder, feats, tokens)
            scored.append((list(words), logp / len(tokens)))
    return sorted(scored, key=lambda s: -s[1])


def test_exhaustive_beam_equals_brute_force() -> None:
    decoder = tiny_decoder(vocab_size=7, feature_dim=8, seed=3)
    feats = torch.randn(1, 4, 8)
    expected = brute_force(decoder, feats, max_length=3)
    beams = beam_search(decoder, feats, beam_size=64, max_length=3)[0]
    assert len(beams) == len(expected)  # every caption found
    for beam, (words, score) in zip(beams[:10], expected[:10], strict=True):
        assert beam.tokens == words
        assert abs(beam.score - score) < 1e-5


def test_small_beam_finds_brute_force_best_on_several_photos() -> None:
    decoder = tiny_decoder(seed=1)
    torch.manual_seed(0)
    feats = torch.randn(6, 4, 8)
    found = 0
    for b in range(6):
        best_words, best_score = brute_force(decoder, feats[b : b + 1], max_length=3)[0]
        beam = beam_search(decoder, feats[b : b + 1], beam_size=3, max_length=3)[0][0]
        assert beam.score <= best_score + 1e-6  # a beam can miss the best, never beat it
        found += beam.tokens == best_words
    assert found >= 4


def test_batch_equals_one_by_one_and_is_deterministic() -> None:
    decoder = tiny_decoder(seed=2)
    feats = torch.randn(5, 4, 8)
    batch = beam_search(decoder, feats, beam_size=3, max_length=6)
    again = beam_search(decoder, feats, beam_size=3, max_length=6)
    for b in range(5):
        single = beam_search(decoder, feats[b : b + 1], beam_size=3, max_length=6)[0]
        assert [x.tokens for x in batch[b]] == [x.tokens for x in single]
        assert [x.tokens for x in again[b]] == [x.tokens for x in batch[b]]
        for x, y in zip(batch[b], single, strict=True):
            assert abs(x.score - y.score) < 1e-5
            assert torch.allclose(x.attention, y.attention, atol=1e-5)


def test_results_shape_and_special_tokens() -> None:
    decoder = tiny_decoder(seed=4)
    beams = beam_search(decoder, torch.randn(2, 4, 8), beam_size=4, max_length=5)
    for photo_beams in beams:
        assert 1 <= len(photo_beams) <= 4
        scores = [b.score for b in photo_beams]
        assert scores == sorted(scores, reverse=True)
        for beam in photo_beams:
            assert len(beam.tokens) <= 5
            assert set(beam.tokens) <= set(WORDS)  # no <pad>, <start>, <end> or <unk>
            assert beam.attention.shape == (len(beam.tokens), 4)
            assert torch.allclose(beam.attention.sum(-1), torch.ones(len(beam.tokens)))
