"""The words that stand for a table's concept: plurals, kinds of an animal, an object's synonyms."""

from captioning.concepts import ConceptTable
from captioning.vocabulary import SPECIALS, Vocabulary
from training.imagenet_words import Sense, Synset, word_concepts

# a WordNet in miniature: offsets 1.. are noun synsets
SYNSETS = {
    1: Synset(1, ("sofa", "couch", "lounge"), (), False),
    2: Synset(2, ("lot", "mountain", "heap"), (), False),  # "a lot": not the mountain classes'
    3: Synset(3, ("mountain", "mount"), (), False),
    4: Synset(4, ("dog", "domestic_dog"), (), False),
    5: Synset(5, ("puppy",), (4,), False),
    6: Synset(6, ("fan", "buff", "devotee"), (), False),
    7: Synset(7, ("fan",), (), False),  # the machine
    8: Synset(8, ("wheel",), (), False),
}
SENSES = {
    "sofa": [Sense("noun", 20, 1)],
    "couch": [Sense("noun", 10, 1), Sense("other", 1, 0)],
    "lot": [Sense("noun", 30, 2)],
    "mountain": [Sense("noun", 9, 3), Sense("noun", 1, 2)],
    "dog": [Sense("noun.animal", 40, 4)],
    "puppy": [Sense("noun.animal", 5, 5)],
    "fan": [Sense("noun", 4, 7), Sense("noun.person", 3, 6)],
    "wheel": [Sense("noun", 12, 8), Sense("other", 10, 0)],  # "it wheels": often a verb
}
WORDS = ["sofa", "couch", "couches", "lot", "mountain", "mountains", "dog", "dogs", "puppy"]
WORDS += ["fans", "wheel", "wheels"]


def test_plurals_kinds_and_synonyms_stand_for_their_concept() -> None:
    vocab = Vocabulary([*SPECIALS, *WORDS])
    rows = [
        ("n0", "studio couch", "sofa", "object"),
        ("n1", "alp", "mountain", "object"),
        ("n2", "beagle", "dog", "animal"),
        ("n3", "electric fan", "fan", "object"),
        ("n4", "car wheel", "wheel", "object"),
    ]
    rows += [(f"n{i}", f"class {i}", "", "object") for i in range(5, 1000)]
    table = ConceptTable.from_rows(rows)
    object_synsets = {"sofa": {1}, "mountain": {3}, "fan": {7}, "wheel": {8}}
    found = word_concepts(vocab, table, SYNSETS, SENSES, object_synsets, ["fans"])
    assert found["couch"] == "sofa" and found["couches"] == "sofa"  # one synset
    assert found["mountains"] == "mountain"
    assert found["dogs"] == "dog" and found["puppy"] == "dog"  # plural, and a kind of dog
    assert "lot" not in found  # mostly "a lot", whose synset is not the one the classes gave
    assert "fans" not in found  # people
    assert "wheels" not in found  # "it wheels"
    assert not {"sofa", "mountain", "dog", "wheel"} & set(found)  # concepts name themselves
