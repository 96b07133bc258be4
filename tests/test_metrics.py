import shutil

import pytest

from training.metrics import all_metrics, bleu


def test_bleu_by_hand() -> None:
    # unigram precision 5/6, bigram 3/5; same length, so no brevity penalty
    b1, b2, _, _ = bleu(["the cat sat on the mat"], [["the cat is on the mat"]])
    assert b1 == pytest.approx(5 / 6, abs=1e-6)
    assert b2 == pytest.approx((5 / 6 * 3 / 5) ** 0.5, abs=1e-6)


def test_bleu_brevity_penalty_by_hand() -> None:
    # every word matches, but 4 words against a 6-word reference: BP = exp(1 - 6/4)
    b1 = bleu(["the cat on mat"], [["the cat is on the mat"]])[0]
    assert b1 == pytest.approx(2.718281828 ** (1 - 6 / 4), abs=1e-6)


def test_identical_captions_score_one_and_case_does_not_matter() -> None:
    scores = bleu(["A dog runs on the grass."], [["a dog runs on the grass", "a brown dog"]])
    assert scores == pytest.approx([1.0, 1.0, 1.0, 1.0], abs=1e-6)


@pytest.mark.skipif(shutil.which("java") is None, reason="METEOR needs Java")
def test_all_metrics_rank_a_good_caption_above_a_bad_one() -> None:
    refs = [["a dog runs on the grass", "a brown dog is running"], ["a man rides a bike"]]
    good = all_metrics(["a dog runs on the grass", "a man rides a bike"], refs)
    bad = all_metrics(["a cat sleeps on a bed", "two women sing"], refs)
    for name in ("BLEU-1", "METEOR", "CIDEr"):
        assert good[name] > bad[name]
    assert good["BLEU-4"] == pytest.approx(1.0, abs=1e-6)
