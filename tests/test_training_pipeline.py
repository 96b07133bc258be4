"""The whole training pipeline on a tiny dataset that the test makes: prepare, train two epochs,
resume, evaluate, export, then load the bundle and caption.

The encoder is the real ResNet-50 architecture with random weights, so nothing is downloaded."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import save_file

from captioning.captioner import Captioner
from captioning.encoder import Encoder
from tests.helpers import photo
from training.__main__ import main as training_main
from training.flickr8k import DatasetError, load
from training.prepare import prepare

CAPTIONS = [
    "a dog runs on the grass",
    "a cat sits in the sun",
    "a man rides a red bike",
    "two children play in the water",
    "a woman walks on the beach",
]
TINY = ["--embed-dim", "16", "--attention-dim", "16", "--hidden-dim", "32", "--batch-size", "8"]


def make_dataset(root: Path, photos_per_split: int = 3) -> Path:
    (root / "Images").mkdir(parents=True)
    rows, splits = ["image,caption"], {"train": [], "dev": [], "test": []}
    n = 0
    for split, names in splits.items():
        for _ in range(photos_per_split):
            name = f"{1000 + n}_photo.jpg"
            photo(160 + 8 * n, 120, seed=n).save(root / "Images" / name)
            names.append(name)
            for k in range(5):
                rows.append(f"{name},{CAPTIONS[(n + k) % len(CAPTIONS)].capitalize()} .")
            n += 1
        (root / f"Flickr_8k.{split}Images.txt").write_text("\n".join(names) + "\n")
    (root / "captions.txt").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("pipeline")
    data, work = make_dataset(base / "flickr8k"), base / "work"
    encoder = Encoder()
    prepare(data, work, encoder, min_count=1, batch_size=4)
    save_file(encoder.net.state_dict(), str(base / "encoder.safetensors"))
    return data, work


def test_prepare_writes_vocab_captions_and_features(prepared: tuple[Path, Path]) -> None:
    _, work = prepared
    vocab = json.loads((work / "vocab.json").read_text())
    assert vocab[:4] == ["<pad>", "<start>", "<end>", "<unk>"] and "dog" in vocab
    meta = json.loads((work / "captions.json").read_text())
    assert [len(meta[s]) for s in ("train", "dev", "test")] == [3, 3, 3]
    features = np.load(work / "features_dev.npy")
    assert features.shape == (3, 49, 2048) and features.dtype == np.float16


def test_train_resume_evaluate_export_caption(prepared: tuple[Path, Path], tmp_path: Path) -> None:
    _, cached = prepared
    work = tmp_path / "work"
    shutil.copytree(cached, work)
    training_main(["train", "--work", str(work), "--epochs", "2", *TINY])
    history = _history(work)
    assert [h["epoch"] for h in history] == [1, 2]
    assert all(np.isfinite(h["loss"]) and 0 <= h["dev_bleu4"] <= 1 for h in history)

    training_main(["train", "--work", str(work), "--epochs", "3", "--resume", *TINY])
    assert [h["epoch"] for h in _history(work)] == [1, 2, 3]  # continued, not restarted

    if shutil.which("java") is None:
        pytest.skip("METEOR needs Java")
    training_main(["evaluate", "--work", str(work), "--split", "dev", "--beam", "2"])
    report = json.loads((work / "reports" / "dev_beam2.json").read_text())
    assert set(report["metrics"]) == {"BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "CIDEr"}
    assert report["photos"] == 3 and len(report["sample"]) == 3

    bundle = tmp_path / "bundle"
    training_main(
        [
            "export",
            "--work",
            str(work),
            "--out",
            str(bundle),
            "--beam",
            "2",
            "--encoder-weights",
            str(cached.parent / "encoder.safetensors"),
        ]
    )
    config = json.loads((bundle / "config.json").read_text())
    assert config["metrics"]["dev_beam2"] == report["metrics"]
    assert config["training"]["settings"]["hidden_dim"] == 32

    result = Captioner.from_pretrained(bundle).caption([photo()])[0]
    vocab = set(json.loads((work / "vocab.json").read_text()))
    assert result.words and set(result.words) <= vocab


def test_same_seed_same_model(prepared: tuple[Path, Path], tmp_path: Path) -> None:
    _, cached = prepared
    losses = []
    for run in ("a", "b"):
        work = tmp_path / run
        shutil.copytree(cached, work)
        training_main(["train", "--work", str(work), "--epochs", "1", *TINY])
        losses.append(_history(work)[0]["loss"])
    assert losses[0] == losses[1]


def test_missing_photos_are_listed(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "flickr8k")
    (data / "Images" / "1001_photo.jpg").unlink()
    with (data / "captions.txt").open("a") as f:
        f.write("9999_ghost.jpg,a ghost .\n")
    with pytest.raises(DatasetError) as error:
        load(data)
    assert "1001_photo.jpg is missing" in str(error.value)
    assert "9999_ghost.jpg" in str(error.value)


def test_original_release_layout(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "flickr8k")
    rows = (data / "captions.txt").read_text().splitlines()[1:]
    token_lines = [f"{r.split(',')[0]}#{i % 5}\t{r.split(',', 1)[1]}" for i, r in enumerate(rows)]
    (data / "Flickr8k.token.txt").write_text("\n".join(token_lines) + "\n")
    (data / "captions.txt").unlink()
    (data / "Images").rename(data / "Flicker8k_Dataset")
    dataset = load(data)
    assert len(dataset.splits["train"]) == 3
    assert all(len(c) == 5 for c in dataset.captions.values())


def _history(work: Path) -> list[dict]:
    import torch

    return torch.load(work / "checkpoints" / "last.pt", weights_only=True)["state"]["history"]
