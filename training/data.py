"""The prepared cache, as training and evaluation read it: features, captions, vocabulary."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from captioning.vocabulary import Vocabulary, tokenize

# the vocabulary, the feature cache, checkpoints and reports of `python -m training`
DEFAULT_WORK = Path("runs/flickr8k")

MAX_CAPTION_TOKENS = 40  # longer training captions are cut (a handful in Flickr8k)


@dataclass
class Split:
    images: list[str]  # file names, in feature order
    references: list[list[str]]  # the reference captions of each photo
    features: torch.Tensor  # (N, L, D) float16


def load_vocab(work: Path) -> Vocabulary:
    return Vocabulary.load(work / "vocab.json")


def load_split(work: Path, split: str) -> Split:
    meta = json.loads((work / "captions.json").read_text())[split]
    features = torch.from_numpy(np.load(work / f"features_{split}.npy"))
    assert len(features) == len(meta), f"features_{split}.npy does not match captions.json"
    return Split([m["image"] for m in meta], [m["captions"] for m in meta], features)


def caption_pairs(split: Split, vocab: Vocabulary) -> list[tuple[int, list[int]]]:
    """(photo index, token ids) for every reference caption of every photo."""
    pairs = []
    for i, captions in enumerate(split.references):
        for caption in captions:
            ids = vocab.encode(caption)
            if len(ids) > MAX_CAPTION_TOKENS:
                ids = [*ids[: MAX_CAPTION_TOKENS - 1], vocab.end]
            pairs.append((i, ids))
    return pairs


def collate(
    split: Split, pairs: list[tuple[int, list[int]]]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch, longest caption first: feats (B, L, D) float32, captions (B, T), lengths (B,)."""
    pairs = sorted(pairs, key=lambda p: -len(p[1]))
    lengths = torch.tensor([len(ids) for _, ids in pairs])
    captions = torch.zeros(len(pairs), int(lengths.max()), dtype=torch.long)  # 0 is <pad>
    for row, (_, ids) in enumerate(pairs):
        captions[row, : len(ids)] = torch.tensor(ids)
    feats = split.features[[i for i, _ in pairs]].float()
    return feats, captions, lengths


def tokenized(text: str) -> str:
    """The form both hypotheses and references take for scoring: lower-case words, spaced."""
    return " ".join(tokenize(text))
