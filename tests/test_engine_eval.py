"""`python -m training evaluate --engine eager,onnx`: BLEU of each engine from the photo files,
compared with eager's."""

import json
from pathlib import Path

import pytest
import torch

from tests.test_training_pipeline import make_dataset
from training.__main__ import main as training_main


def test_engines_compared_on_the_photos(tmp_path: Path, tiny_bundle: Path) -> None:
    torch.set_num_threads(1)
    data = make_dataset(tmp_path / "flickr8k", photos_per_split=3)
    work = tmp_path / "work"
    training_main(
        [
            "evaluate",
            "--engine",
            "eager,onnx",
            "--model",
            str(tiny_bundle),
            "--data",
            str(data),
            "--work",
            str(work),
            "--split",
            "dev",
        ]
    )
    report = json.loads((work / "reports" / "dev_engines.json").read_text())
    engines = report["engines"]
    assert list(engines) == ["eager", "onnx"]
    assert len(engines["eager"]["captions"]) == 3
    assert engines["onnx"]["captions"] == engines["eager"]["captions"]
    assert engines["onnx"]["BLEU"] == engines["eager"]["BLEU"]
    assert "within 0.005" in report["summary"]


def test_an_unknown_engine_is_refused(
    tmp_path: Path, tiny_bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused on the command line, as every command that takes engines does (engines/names.py)."""
    data = make_dataset(tmp_path / "flickr8k", photos_per_split=1)
    with pytest.raises(SystemExit) as exited:
        training_main(
            [
                "evaluate",
                "--engine",
                "warp",
                "--model",
                str(tiny_bundle),
                "--data",
                str(data),
                "--work",
                str(tmp_path / "work"),
            ]
        )
    assert exited.value.code == 2
    assert "unknown engine 'warp'; choose from eager, onnx, bf16, int8" in capsys.readouterr().err
