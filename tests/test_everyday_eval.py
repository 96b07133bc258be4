"""The everyday-photo evaluation: its measures on hand-made captions, and a whole run on tiny
generated folders (COCO-style and ImageNet-named) with a tiny grounded model."""

import json
from pathlib import Path

import pytest

from captioning.bundle import make_random_bundle
from captioning.concepts import ConceptTable
from tests.helpers import photo
from training.everyday import coco_figures, degenerate, evaluate_everyday, imagenet_figures


def test_coco_measures_on_hand_made_captions() -> None:
    references = [
        ["a cat sleeps on a couch", "a cat on a sofa"],  # no person
        ["a man rides a horse", "a person on a horse"],
        ["a plate of food on a table", "pizza on a table"],  # no person
    ]
    captions = ["a man sits on a couch with a dog", "a man rides a horse", "a pizza on a table"]
    figures = coco_figures(captions, references, max_length=30)
    assert figures["photos_without_people"] == 2
    assert figures["people_invented"] == 0.5  # one of the two photos without people
    # mentions: person, couch, dog | person, horse | pizza, dining table -> 2 of 7 invented
    assert figures["chair_i"] == pytest.approx(2 / 7)
    assert figures["chair_s"] == pytest.approx(1 / 3)
    assert figures["degenerate"] == 0.0


def test_degenerate_repetition() -> None:
    assert degenerate("a white and white and white dog", 30)
    assert degenerate("a dog on the green green grass", 30)
    assert not degenerate("a black and white dog runs on the grass", 30)
    assert degenerate(" ".join(["word"] * 30), 30)  # never ended


def test_imagenet_measures_on_hand_made_captions(tmp_path: Path) -> None:
    table = ConceptTable.load(make_random_bundle(tmp_path / "b", recognise=281))
    photos = ["n00000281_tabby.jpg", "n00000151_dog.jpg", "n00000010_bird.jpg", "n00000500_x.jpg"]
    captions = ["a man holds a cat", "a dog runs", "a dog in the water", "a man in a shop"]
    figures = imagenet_figures(photos, captions, table, max_length=30)
    assert figures["animal_and_food_photos"] == 3  # classes below 398 are animals
    assert figures["people_invented_on_animals_and_food"] == pytest.approx(1 / 3)
    assert (figures["cats_named"], figures["dogs_named"], figures["birds_named"]) == (1, 1, 0)


def test_evaluate_a_generated_coco_folder_and_an_imagenet_folder(tmp_path: Path) -> None:
    bundle = make_random_bundle(tmp_path / "bundle", recognise=281)
    coco = tmp_path / "coco"
    (coco / "images").mkdir(parents=True)
    references = {}
    for i in range(3):
        photo(seed=i).save(coco / "images" / f"{i:012d}.jpg")
        references[f"{i:012d}.jpg"] = ["a cat on the grass", "a cat sits in the sun"]
    (coco / "references.json").write_text(json.dumps(references))
    report = tmp_path / "coco.json"
    figures = evaluate_everyday(coco, bundle, "eager", 2, True, report)
    assert figures["photos"] == 3 and figures["photos_without_people"] == 3
    assert figures["people_invented"] == 0.0  # the tiny model's person head sees no one
    assert json.loads(report.read_text())["captions"].keys() == references.keys()

    imagenet = tmp_path / "imagenet"
    imagenet.mkdir()
    for i, name in enumerate(["n00000281_tabby_cat", "n00000283_persian_cat"]):
        photo(seed=i).save(imagenet / f"{name}.jpg")
    figures = evaluate_everyday(imagenet, bundle, "eager", 2, True, tmp_path / "imagenet.json")
    assert figures["cats_named"] == 1.0  # the classifier is sure of a tabby: the caption says cat
