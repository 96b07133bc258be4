"""`python -m training person-head`: the "someone is in the photo" head of grounding.

A logistic regression on the ImageNet classifier's 1000 log-probabilities of Flickr8k's training
photos, from the feature cache that `prepare` made. A photo's label is the share of its five
captions that name a person (a word of `grounding.json`'s person words), so "a dog runs on the
beach" photos teach it what no one looks like. Trained with L-BFGS on the whole split at once
(6,000 rows); dev accuracy and ROC AUC are logged and kept in `grounding.json`.

Beside the head it keeps which classes those photos show: a class is familiar where its mean
probability over the training photos is above chance (1/1000). A photo whose classes are not
(a kitchen: Flickr8k has hardly any) gets the head's prior, Flickr8k's people, whatever it shows,
so grounding asks more of the head there.
"""

import argparse
import logging
from pathlib import Path

import torch
import torch.nn.functional as F

from captioning.bundle import read_config
from captioning.grounding import (
    GroundingFile,
    class_log_probs,
    load_classifier,
    save_person_head,
)
from captioning.vocabulary import tokenize
from training.data import Split, load_split

log = logging.getLogger(__name__)
WEIGHT_DECAY = 1e-3
STEPS = 200
CHANCE = 1 / 1000  # a class more likely than this on average is one the head has seen


def log_probs(classifier: tuple[torch.Tensor, torch.Tensor], split: Split) -> torch.Tensor:
    """(N, L, D) float16 features -> (N, 1000) the classifier's log-probabilities."""
    f, chunk = split.features, 500
    parts = [class_log_probs(f[i : i + chunk], *classifier) for i in range(0, len(f), chunk)]
    return torch.cat(parts)


def person_share(split: Split, person_words: set[str]) -> torch.Tensor:
    """(N,) the share of each photo's captions that name a person."""
    shares = [
        sum(bool(person_words & set(tokenize(c))) for c in captions) / len(captions)
        for captions in split.references
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
    parser.add_argument("--work", type=Path, default=Path("runs/flickr8k"), help="feature cache")
    parser.add_argument(
        "--model", type=Path, default=Path("model_weights/flickr8k"), help="the bundle to write to"
    )


def run(args: argparse.Namespace) -> None:
    config = GroundingFile.load(args.model)  # person words, from `imagenet-words`
    words = set(config.person_words)
    classifier = load_classifier(args.model / read_config(args.model)["encoder"]["weights"])
    train, dev = load_split(args.work, "train"), load_split(args.work, "dev")
    x_train, y_train = log_probs(classifier, train), person_share(train, words)
    weight, bias = fit(x_train, y_train)
    familiar = (x_train.exp().mean(dim=0) >= CHANCE).float()  # (1000,)
    x_dev, y_dev = log_probs(classifier, dev), person_share(dev, words)
    p_dev = torch.sigmoid(x_dev @ weight + bias)
    truth = y_dev >= 0.5
    accuracy = float(((p_dev >= 0.5) == truth).float().mean())
    auc = roc_auc(p_dev, truth)
    config.person_head = {
        "trained_on": f"Flickr8k train, {len(train.images)} photos: ImageNet log-probabilities "
        "of the mean-pooled eager features",
        "label": "share of the photo's captions naming a person",
        "weight_decay": WEIGHT_DECAY,
        "dev_accuracy": round(accuracy, 4),
        "dev_roc_auc": round(auc, 4),
        "dev_person_photos": round(float(truth.float().mean()), 4),
        "familiar_classes": int(familiar.sum()),
    }
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
