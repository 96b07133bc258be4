from pathlib import Path

from captioning.vocabulary import Vocabulary, tokenize


def test_tokenize_is_lower_case_words_without_punctuation() -> None:
    assert tokenize("A dog's ball, in 2 PARKS!") == ["a", "dog's", "ball", "in", "2", "parks"]


def test_build_keeps_frequent_words_in_a_fixed_order(tmp_path: Path) -> None:
    captions = ["a dog runs", "a dog sits", "a cat sits", "the bird"]
    vocab = Vocabulary.build(captions, min_count=2)
    assert vocab.words == ["<pad>", "<start>", "<end>", "<unk>", "a", "dog", "sits"]
    assert vocab.encode("A dog flies") == [1, 4, 5, 3, 2]
    assert vocab.decode([1, 4, 5, 3, 2, 6]) == ["a", "dog", "<unk>"]
    vocab.save(tmp_path / "v.json")
    assert Vocabulary.load(tmp_path / "v.json").words == vocab.words
