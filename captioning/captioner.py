"""`Captioner`: photos in, captions out. The one object the bot and the CLI use."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image

from captioning import preprocessing
from captioning.beam_search import Beam
from captioning.bundle import encoder_file, load_decoder, read_config
from captioning.decoder import Decoder
from captioning.encoder import GRID, Encoder
from captioning.engines.base import Engine
from captioning.engines.eager import eager_engine
from captioning.engines.registry import load_engine
from captioning.grounding import Choice, Doubt, Grounding, grounded_beam_search
from captioning.hedged import hedged_sentence
from captioning.memory import release_freed_memory
from captioning.vocabulary import Vocabulary

# "sentence": the decoder's own caption; "objects": a hedged sentence of what the classifier
# recognised, where no caption of the decoder held up against the evidence
CaptionKind = Literal["sentence", "objects"]


@dataclass(frozen=True)
class CaptionResult:
    caption: str
    score: float  # length-normalised log-probability of the caption
    words: list[str]
    alternatives: list[tuple[str, float]]  # the other beams, best first
    attention: np.ndarray  # (len(words), 7, 7): where the model looked for each word
    tags: list[tuple[str, float]] = field(default_factory=list)  # what the classifier recognised
    doubt: Doubt | None = None  # why the caption is a guess ("text", "unfamiliar"), if it is
    kind: CaptionKind = "sentence"  # with "objects", `tags` are the things the caption names

    @property
    def confident(self) -> bool:
        return self.doubt is None


class Captioner:
    def __init__(
        self,
        encoder: Encoder | None,
        decoder: Decoder | None,
        vocab: Vocabulary,
        beam_size: int,
        max_length: int,
        length_penalty: float,
        engine: Engine | None = None,
        grounding: Grounding | None = None,
    ) -> None:
        """`encoder`, `decoder`: the float32 modules (None where the engine does without them);
        `engine`: how they run (default: eager, which needs both)."""
        self.encoder, self.decoder, self.vocab = encoder, decoder, vocab
        self.beam_size, self.max_length, self.length_penalty = beam_size, max_length, length_penalty
        if engine is None:
            if encoder is None or decoder is None:
                raise ValueError("the eager engine needs the encoder and the decoder")
            engine = eager_engine(encoder, decoder)
        self.engine = engine
        self.grounding = grounding

    @classmethod
    def from_pretrained(
        cls, path: Path | str, engine: str = "eager", grounded: bool = True
    ) -> "Captioner":
        """Load a bundle; `engine` names how it runs (see `captioning.engines`); `grounded`:
        decode with the bundle's grounding where it has one (False: plain beam search).

        Only what the engine runs is kept: an ONNX Runtime engine whose files are built holds no
        float32 encoder and, of the float32 decoder, only the layers of its initial state."""
        path = Path(path)
        config = read_config(path)
        weights = encoder_file(path, config)
        decoder, vocab = load_decoder(path, config)
        d = config["decoding"]
        runtime = load_engine(engine, path, weights, decoder)
        del decoder  # the engine's references are what stays
        grounding = Grounding.from_bundle(path, weights, vocab) if grounded else None
        captioner = cls(
            runtime.encode if isinstance(runtime.encode, Encoder) else None,
            runtime.decoder if isinstance(runtime.decoder, Decoder) else None,
            vocab,
            d["beam_size"],
            d["max_length"],
            d["length_penalty"],
            runtime,
            grounding,
        )
        release_freed_memory()  # what loading freed (the decoder's other layers) leaves the RSS
        return captioner

    @torch.inference_mode()
    def encode(self, images: list[Image.Image]) -> torch.Tensor:
        """PIL images of any mode and size -> features (B, 49, 2048)."""
        return self.engine.encode(preprocessing.batch(images))

    @torch.inference_mode()
    def decode(self, feats: torch.Tensor, beam_size: int | None = None) -> list[CaptionResult]:
        """features (B, 49, 2048) -> a result per photo."""
        choices = grounded_beam_search(
            self.engine.decoder,
            feats,
            beam_size or self.beam_size,
            self.max_length,
            self.length_penalty,
            self.grounding,
        )
        return [self._result(choice) for choice in choices]

    def _result(self, choice: Choice) -> CaptionResult:
        doubt = choice.judgement.doubt
        if choice.beams:
            return self._sentence(choice.beams, choice.judgement.tags, doubt)
        return CaptionResult(
            caption=hedged_sentence([label for label, _ in choice.things]),
            score=0.0,
            words=[],
            alternatives=[],
            attention=np.zeros((0, GRID, GRID), dtype=np.float32),
            tags=choice.things,
            doubt=doubt,
            kind="objects",
        )

    def _sentence(
        self,
        beams: list[Beam],
        tags: list[tuple[str, float]] | None = None,
        doubt: Doubt | None = None,
    ) -> CaptionResult:
        best, *others = beams
        words = self.vocab.decode(best.tokens)
        return CaptionResult(
            caption=" ".join(words),
            score=best.score,
            words=words,
            alternatives=[(" ".join(self.vocab.decode(b.tokens)), b.score) for b in others],
            attention=best.attention.view(len(words), GRID, GRID).numpy(),
            tags=tags or [],
            doubt=doubt,
        )

    def caption(
        self, images: list[Image.Image], beam_size: int | None = None
    ) -> list[CaptionResult]:
        if not images:
            return []
        return self.decode(self.encode(images), beam_size)
