"""Step 1: build the vocabulary from the training captions and cache the encoder's features.

The encoder is frozen, so it runs once over every split photo; training then reads
(N, 49, 2048) float16 arrays from `<out>/features_<split>.npy` and never touches a photo.
"""

import json
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from captioning.preprocessing import BadImageError, batch, open_image
from captioning.vocabulary import Vocabulary
from training.flickr8k import SPLITS, DatasetError, load

log = logging.getLogger(__name__)


def cache_features(encoder: nn.Module, paths: list[Path], target: Path, batch_size: int) -> None:
    """Run the encoder over `paths` and write an (N, L, D) float16 array to `target`."""
    partial = target.with_suffix(".partial.npy")
    features: np.memmap | None = None
    with torch.inference_mode():
        for start in tqdm(range(0, len(paths), batch_size), desc=target.stem, unit="batch"):
            chunk = paths[start : start + batch_size]
            out = encoder(batch([open_image(p) for p in chunk]))  # (b, L, D)
            if features is None:
                shape = (len(paths), *out.shape[1:])
                features = np.lib.format.open_memmap(partial, "w+", np.float16, shape)
            features[start : start + len(chunk)] = out.numpy().astype(np.float16)
    assert features is not None
    features.flush()
    del features
    partial.replace(target)


def check_photos(paths: list[Path]) -> None:
    bad = []
    for p in tqdm(paths, desc="checking photos", unit="photo"):
        try:
            open_image(p)
        except BadImageError as exc:
            bad.append(f"{p.name}: {exc}")
    if bad:
        raise DatasetError("unreadable photos:\n  " + "\n  ".join(bad))


def prepare(data: Path, out: Path, encoder: nn.Module, min_count: int, batch_size: int) -> None:
    dataset = load(data)
    out.mkdir(parents=True, exist_ok=True)
    # decoding every photo first costs seconds and stops a bad data folder before the encoder's
    # long pass, not halfway through it
    check_photos([dataset.image_dir / n for names in dataset.splits.values() for n in names])

    train_captions = [c for n in dataset.splits["train"] for c in dataset.captions[n]]
    vocab = Vocabulary.build(train_captions, min_count)
    vocab.save(out / "vocab.json")
    log.info("vocabulary: %d words seen at least %d times in train", len(vocab), min_count)

    meta = {
        split: [{"image": n, "captions": dataset.captions[n]} for n in names]
        for split, names in dataset.splits.items()
    }
    (out / "captions.json").write_text(json.dumps(meta, ensure_ascii=False))
    for split in SPLITS:
        target = out / f"features_{split}.npy"
        if target.exists() and len(np.load(target, mmap_mode="r")) == len(meta[split]):
            log.info("%s already cached", target)
            continue
        paths = [dataset.image_dir / n for n in dataset.splits[split]]
        cache_features(encoder, paths, target, batch_size)
    size = sum(f.stat().st_size for f in out.glob("features_*.npy"))
    log.info("feature cache: %.2f GB in %s", size / 1e9, out)
