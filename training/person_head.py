"""`python -m training person-head`: the "someone is in the photo" head of grounding.

A logistic regression on the ImageNet classifier's 1000 log-probabilities of Flickr8k's training
photos, as the bot's engine (`--engine`, int8 by default) encodes them: its int8 features differ
from eager's by 14-20 %, and a head trained on eager's misjudged them (COCO ROC AUC 0.84 against
0.88). The features are cached in the work folder. A photo's label is the share of its five
captions that name a person (a word of `grounding.json`'s person words), so "a dog runs on the
beach" photos teach it what no one looks like. Trained with L-BFGS on the whole split at once
(6,000 rows), with a weight decay chosen on dev and on COCO photos unlike Flickr8k's (more of it
carries over better); dev accuracy and ROC AUC are logged and kept in `grounding.json`.

Beside the head it keeps which classes those photos show: a class is familiar where its mean
probability over the training photos is above chance (1/1000). A photo whose classes are not
(a kitchen: Flickr8k has hardly any) gets the head's prior, Flickr8k's people, whatever it shows,
so grounding asks more of the head there.
"""

import argparse
import json
import logging
from pathlib import Path

import torch
import torch.nn.functional as F

from captioning.bundle_config import SHIPPED_BUNDLE, read_config
from captioning.captioner import Captioner
from captioning.grounding import (
    GroundingFile,
    class_log_probs,
    load_classifier,
    save_person_head,
)
from captioning.preprocessing import open_image
from captioning.vocabulary import tokenize
from training.data import DEFAULT_WORK
from training.flickr8k import load
from training.fluency import GARMENTS

log = logging.getLogger(__name__)
WEIGHT_DECAY = 3e-2
BATCH = 16
STEPS = 200
CHANCE = 1 / 1000  # a class more likely than this on average is one the head has seen
# what people wear, for grounding's check of a caption started with a thing ("a sign in a blue
# jacket"): the fluency measure's garments, less those that name other things too
NOT_WORN = {"tank", "top", "tops", "gear"}


def engine_features(model: Path, engine: str, photos: list[Path], cache: Path) -> torch.Tensor:
    """(N, L, D) float16: the photos' features as `engine` encodes them (cached in `cache`)."""
    if cache.is_file():
        return torch.load(cache)["feats"]
    captioner = Captioner.from_pretrained(model, engine=engine, grounded=False)
    parts = []
    for start in range(0, len(photos), BATCH):
        images = [open_image(p) for p in photos[start : start + BATCH]]
        parts.append(captioner.encode(images).to(torch.float16))
        if start // BATCH % 50 == 0:
            log.info("%s features: %d/%d photos", engine, start, len(photos))
    feats = torch.cat(parts)
    cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"names": [p.name for p in photos], "feats": feats}, cache)
    return feats


def log_probs(classifier: tuple[torch.Tensor, torch.Tensor], f: torch.Tensor) -> torch.Tensor:
    """(N, L, D) float16 features -> (N, 1000) the classifier's log-probabilities."""
    chunk = 500
    parts = [class_log_probs(f[i : i + chunk], *classifier) for i in range(0, len(f), chunk)]
    return torch.cat(parts)


def person_share(references: list[list[str]], person_words: set[str]) -> torch.Tensor:
    """(N,) the share of each photo's captions that name a person."""
    shares = [
        sum(bool(person_words & set(tokenize(c))) for c in captions) / len(captions)
        for captions in references
    ]
    return torch.tensor(shares)


def fit(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Logistic regression x (N, D) -> y (N,) in [0, 1]; returns weight (D,), bias ()."""
    weight = torch.zeros(x.shape[1], requires_grad=True)
    bias = torch.zeros((), requires_grad=True)
    optimiser = torch.optim.LBFGS([weight, bias], max_iter=STEPS, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = F.binary_cross_entropy_with_logits(x @ weight + bias, y)
        loss = loss + WEIGHT_DECAY * weight.square().sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return weight.detach(), bias.detach()


def roc_auc(scores: torch.Tensor, positive: torch.Tensor) -> float:
    """The chance that a positive photo scores above a negative one (ties count half)."""
    pos, neg = scores[positive], scores[~positive]
    above = (pos.unsqueeze(1) > neg.unsqueeze(0)).float().mean()
    ties = (pos.unsqueeze(1) == neg.unsqueeze(0)).float().mean()
    return float(above + ties / 2)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="feature cache")
    parser.add_argument("--data", type=Path, default=Path("../shared/flickr8k"), help="Flickr8k")
    parser.add_argument("--engine", default="int8", help="the engine whose features it judges")
    parser.add_argument("--model", type=Path, default=SHIPPED_BUNDLE, help="the bundle to write to")


def run(args: argparse.Namespace) -> None:
    config = GroundingFile.load(args.model)  # person words, from `imagenet-words`
    words = set(config.person_words)
    classifier = load_classifier(args.model / read_config(args.model)["encoder"]["weights"])
    dataset = load(args.data)
    x, y = {}, {}
    for split in ("train", "dev"):
        names = dataset.splits[split]
        cache = args.work / f"person_head_{args.engine}_{split}.pt"
        feats = engine_features(
            args.model, args.engine, [dataset.image_dir / n for n in names], cache
        )
        x[split] = log_probs(classifier, feats)
        y[split] = person_share([dataset.captions[n] for n in names], words)
    x_train, y_train, x_dev, y_dev = x["train"], y["train"], x["dev"], y["dev"]
    weight, bias = fit(x_train, y_train)
    familiar = (x_train.exp().mean(dim=0) >= CHANCE).float()  # (1000,)
    p_dev = torch.sigmoid(x_dev @ weight + bias)
    truth = y_dev >= 0.5
    accuracy = float(((p_dev >= 0.5) == truth).float().mean())
    auc = roc_auc(p_dev, truth)
    config.person_head = {
        "trained_on": f"Flickr8k train, {len(x_train)} photos: ImageNet log-probabilities "
        f"of the mean-pooled {args.engine} features",
        "label": "share of the photo's captions naming a person",
        "weight_decay": WEIGHT_DECAY,
        "dev_accuracy": round(accuracy, 4),
        "dev_roc_auc": round(auc, 4),
        "dev_person_photos": round(float(truth.float().mean()), 4),
        "familiar_classes": int(familiar.sum()),
    }
    vocab = json.loads((args.model / "vocab.json").read_text())
    config.worn_words = sorted((GARMENTS - NOT_WORN) & set(vocab))
    save_person_head(args.model, weight, bias, familiar)
    config.save(args.model)
    log.info(
        "person head: dev accuracy %.3f, ROC AUC %.3f (%.0f %% of dev photos show a person); "
        "%d classes familiar",
        accuracy,
        auc,
        100 * float(truth.float().mean()),
        int(familiar.sum()),
    )
