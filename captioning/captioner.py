"""`Captioner`: photos in, captions out. The one object the bot and the CLI use."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from captioning import preprocessing
from captioning.beam_search import beam_search
from captioning.bundle import load_bundle
from captioning.decoder import Decoder
from captioning.encoder import GRID, Encoder
from captioning.engines.base import Engine
from captioning.engines.eager import eager_engine
from captioning.engines.registry import load_engine
from captioning.vocabulary import Vocabulary


@dataclass(frozen=True)
class CaptionResult:
    caption: str
    score: float  # length-normalised log-probability of the caption
    words: list[str]
    alternatives: list[tuple[str, float]]  # the other beams, best first
    attention: np.ndarray  # (len(words), 7, 7): where the model looked for each word


class Captioner:
    def __init__(
        self,
        encoder: Encoder,
        decoder: Decoder,
        vocab: Vocabulary,
        beam_size: int,
        max_length: int,
        length_penalty: float,
        engine: Engine | None = None,
    ) -> None:
        self.encoder, self.decoder, self.vocab = encoder, decoder, vocab
        self.beam_size, self.max_length, self.length_penalty = beam_size, max_length, length_penalty
        self.engine = engine or eager_engine(encoder, decoder)

    @classmethod
    def from_pretrained(cls, path: Path | str, engine: str = "eager") -> "Captioner":
        """Load a bundle; `engine` names how it runs (see `captioning.engines`)."""
        encoder, decoder, vocab, config = load_bundle(Path(path))
        d = config["decoding"]
        runtime = load_engine(engine, Path(path), encoder, decoder)
        return cls(
            encoder, decoder, vocab, d["beam_size"], d["max_length"], d["length_penalty"], runtime
        )

    @torch.inference_mode()
    def encode(self, images: list[Image.Image]) -> torch.Tensor:
        """PIL images of any mode and size -> features (B, 49, 2048)."""
        return self.engine.encode(preprocessing.batch(images))

    @torch.inference_mode()
    def decode(self, feats: torch.Tensor, beam_size: int | None = None) -> list[CaptionResult]:
        results = []
        beam = beam_size or self.beam_size
        decoder = self.engine.decoder
        for beams in beam_search(decoder, feats, beam, self.max_length, self.length_penalty):
            best, *others = beams
            words = self.vocab.decode(best.tokens)
            results.append(
                CaptionResult(
                    caption=" ".join(words),
                    score=best.score,
                    words=words,
                    alternatives=[(" ".join(self.vocab.decode(b.tokens)), b.score) for b in others],
                    attention=best.attention.view(len(words), GRID, GRID).numpy(),
                )
            )
        return results

    def caption(
        self, images: list[Image.Image], beam_size: int | None = None
    ) -> list[CaptionResult]:
        if not images:
            return []
        return self.decode(self.encode(images), beam_size)
