"""The model the bot ships with. Needs model_weights/resnet50_imagenet.safetensors (made by
`captionbot weights`); the Flickr8k check also needs ../shared/flickr8k. Each skips without."""

import json
from pathlib import Path

import pytest

from captioning.captioner import Captioner
from training.flickr8k import load
from training.metrics import bleu

ROOT = Path(__file__).parent.parent
BUNDLE = ROOT / "model_weights" / "flickr8k"
FLICKR8K = ROOT.parent / "shared" / "flickr8k"
needs_weights = pytest.mark.skipif(
    not (ROOT / "model_weights" / "resnet50_imagenet.safetensors").exists(),
    reason="needs the converted encoder weights (captionbot weights)",
)


def test_bundle_records_scores_that_meet_the_targets() -> None:
    config = json.loads((BUNDLE / "config.json").read_text())
    beam = config["decoding"]["beam_size"]
    test = config["metrics"][f"test_beam{beam}"]
    assert test["BLEU-4"] >= 0.21 and test["METEOR"] >= 0.20


@pytest.mark.weights
@pytest.mark.flickr8k
@needs_weights
@pytest.mark.skipif(not FLICKR8K.is_dir(), reason=f"needs {FLICKR8K}")
def test_captions_dev_photos_like_their_references() -> None:
    from captioning.preprocessing import open_image

    data = load(FLICKR8K)
    names = data.splits["dev"][:24]
    captioner = Captioner.from_pretrained(BUNDLE)
    results = captioner.caption([open_image(data.image_dir / n) for n in names])
    b1, _, _, b4 = bleu([r.caption for r in results], [data.captions[n] for n in names])
    assert b1 > 0.5 and b4 > 0.1


EVERYDAY = ROOT.parent / "shared" / "everyday" / "imagenet-sample"


@pytest.mark.weights
@needs_weights
@pytest.mark.skipif(not EVERYDAY.is_dir(), reason=f"needs {EVERYDAY}")
def test_names_the_cats_and_invents_no_people_on_everyday_animal_photos() -> None:
    from captioning.preprocessing import open_image
    from training.everyday import names_person

    cats = sorted(EVERYDAY.glob("n0212[34]*.jpg"))  # the domestic cats of the sample
    assert cats
    captioner = Captioner.from_pretrained(BUNDLE)
    for path, result in zip(cats, captioner.caption([open_image(p) for p in cats]), strict=True):
        assert "cat" in result.words, (path.name, result.caption)
        assert not names_person(result.caption), (path.name, result.caption)
        assert result.tags and result.confident
