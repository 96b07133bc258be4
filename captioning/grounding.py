"""Grounding: what the encoder's own ImageNet classifier and a person detector say about a photo,
and how that steers the caption.

From the mean-pooled encoder features (B, D) of any engine:
- the ImageNet classifier (ResNet-50's `fc`, 1000 classes) gives class probabilities; classes that
  share a caption word add up (the 118 dog breeds make "dog"), see `concepts.py`;
- a logistic "someone is in the photo" head over the classifier's 1000 log-probabilities,
  trained on Flickr8k's cached features with labels read off the captions (`python -m training
  person-head`), gives P(person); person words need it to be high, and higher still beside
  something else the classifier is sure of. (On the classifier's output rather than the raw
  features, the head carries over to photos unlike Flickr8k's far better: ROC AUC 0.79 against
  0.69 on COCO photos.) Where the classifier's mass lies on classes Flickr8k's photos hardly
  show (a kitchen, a bathroom), the head only repeats its prior, Flickr8k's people: such an
  unfamiliar photo needs a higher P(person) still.
Decoding then gets, per photo, a one-time bonus for the word of each confident concept and a ban
on person words without evidence of a person. The result says what was recognised (tags) and
whether the caption is a guess (doubt): the photo looks like text or a screen, or neither the
classifier nor the decoder is sure.

The bundle keeps this in `grounding.json` (person words, settings) and `grounding.safetensors`
(the person head); a bundle without them decodes plainly.
"""

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from captioning.beam_search import Beam, beam_search
from captioning.concepts import ConceptTable
from captioning.engines.base import StepDecoder
from captioning.vocabulary import Vocabulary

GROUNDING_FILE = "grounding.json"
HEAD_FILE = "grounding.safetensors"
Doubt = Literal["text", "unfamiliar"]


@dataclass(frozen=True)
class GroundingSettings:
    concept_threshold: float = 0.5  # P(concept) from which its word is asked for
    bonus: float = 4.0  # added once to that word's log-probability at every step until said
    bonus_kinds: tuple[str, ...] = ("animal", "food")  # what a caption is asked to name
    push: float = 0.2  # the share of the bonus added at each step (ending without it: all)
    give_up_after: int = 14  # words; from then on a caption may end without the word asked for
    ruled_out: float = 0.1  # an animal the classifier finds less likely than this is not said
    object_ruled_out: float = 0.002  # the same for objects (a bed, a car, a bench)
    person_threshold: float = 0.7  # below it, person words are not said
    beside_threshold: float = 0.3  # from this P(a non-person concept)...
    person_threshold_beside: float = 0.8  # ...P(person) must reach this for person words
    familiar_share: float = 0.5  # a photo whose P(a class Flickr8k shows) is below this...
    person_threshold_unfamiliar: float = 0.9  # ...needs at least this P(person)
    tag_threshold: float = 0.3  # a class this likely is reported as recognised
    max_tags: int = 3
    text_threshold: float = 0.3  # P(text or screen) from which the caption is a guess
    unsure_score: float = -1.0  # a caption's mean log-probability below which the decoder is unsure
    block_ngram: int = 2  # no n-gram of this length twice in one caption (0: allowed)
    block_echo: bool = True  # no "green green", no "white and white"


@dataclass(frozen=True)
class Evidence:
    probs: torch.Tensor  # (B, 1000) ImageNet class probabilities
    person: torch.Tensor  # (B,) P(someone is in the photo)
    other: torch.Tensor  # (B,) P(the likeliest concept that is not a person)
    familiar: torch.Tensor  # (B,) P(a class that Flickr8k's photos show), see `save_person_head`
    concept: torch.Tensor  # (B, V) P(the photo shows each caption word's thing: "dog", "cat")


@dataclass(frozen=True)
class Judgement:
    tags: list[tuple[str, float]]  # (ImageNet label, probability), likeliest first
    doubt: Doubt | None  # why the caption is a guess; None when it is not


@dataclass
class GroundingFile:
    """What `grounding.json` holds."""

    person_words: list[str]
    settings: GroundingSettings = field(default_factory=GroundingSettings)
    word_concepts: dict[str, str] = field(default_factory=dict)  # puppy -> dog, dogs -> dog
    person_head: dict[str, Any] = field(default_factory=dict)  # how the head was trained

    def save(self, bundle: Path) -> Path:
        path = bundle / GROUNDING_FILE
        content = {**asdict(self), "settings": asdict(self.settings)}
        path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n")
        return path

    @classmethod
    def load(cls, bundle: Path) -> "GroundingFile":
        content = json.loads((bundle / GROUNDING_FILE).read_text())
        settings = GroundingSettings(**content.get("settings", {}))
        settings = replace(settings, bonus_kinds=tuple(settings.bonus_kinds))  # a JSON list
        return cls(
            content["person_words"],
            settings,
            content.get("word_concepts", {}),
            content.get("person_head", {}),
        )


def save_person_head(
    bundle: Path, weight: torch.Tensor, bias: torch.Tensor, familiar: torch.Tensor
) -> Path:
    """weight (1000,), bias () of the logistic person head; familiar (1000,) 1.0 for the classes
    that the head's training photos show (the head's answer means something), else 0.0."""
    path = bundle / HEAD_FILE
    tensors = {"weight": weight.contiguous(), "bias": bias.reshape(1), "familiar": familiar.float()}
    save_file(tensors, str(path))
    return path


def load_classifier(encoder_weights: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """ResNet-50's ImageNet classifier, kept in the encoder's weight file: (1000, D), (1000,)."""
    with safe_open(str(encoder_weights), framework="pt") as f:
        return f.get_tensor("fc.weight"), f.get_tensor("fc.bias")


def class_log_probs(feats: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """feats (B, L, D) -> (B, 1000) the classifier's log-probabilities."""
    pooled = feats.float().mean(dim=1)  # (B, D): what the classifier's average pool gives
    return (pooled @ weight.T + bias).log_softmax(dim=1)


class Grounding:
    def __init__(
        self,
        classifier_weight: torch.Tensor,  # (1000, D)
        classifier_bias: torch.Tensor,  # (1000,)
        head_weight: torch.Tensor,  # (1000,)
        head_bias: torch.Tensor,  # (1,)
        familiar: torch.Tensor,  # (1000,) 1.0 for the classes the head was trained on
        table: ConceptTable,
        vocab: Vocabulary,
        person_words: list[str],
        settings: GroundingSettings,
        word_concepts: dict[str, str] | None = None,
    ) -> None:
        self.classifier_weight, self.classifier_bias = classifier_weight, classifier_bias
        self.head_weight, self.head_bias, self.familiar = head_weight, head_bias, familiar
        self.labels, self.settings = table.labels, settings
        V = len(vocab)
        # which caption word each class is: classes `self.named` are words `self.named_word`
        named = [
            (i, vocab.index[word])
            for i, (word, kind) in enumerate(zip(table.words, table.kinds, strict=True))
            if word and kind not in ("person", "text")
        ]
        self.named = torch.tensor([i for i, _ in named], dtype=torch.long)
        self.named_word = torch.tensor([w for _, w in named], dtype=torch.long)
        self.vocab_size = V
        self.text = torch.tensor([k == "text" for k in table.kinds])
        self.animal_words = torch.zeros(V, dtype=torch.bool)  # (V,)
        self.animal_words[[w for i, w in named if table.kinds[i] == "animal"]] = True
        self.object_words = torch.zeros(V, dtype=torch.bool)
        self.object_words[[w for i, w in named if table.kinds[i] == "object"]] = True
        self.object_words &= ~self.animal_words
        self.spends = torch.arange(V)  # saying "puppy" spends the bonus of "dog"
        for word, concept in (word_concepts or {}).items():
            if word in vocab.index and concept in vocab.index:
                self.spends[vocab.index[word]] = vocab.index[concept]
        # the word a caption is asked for, by the photo's likeliest class (-1: none)
        self.asked_word = torch.tensor(
            [
                vocab.index[w] if w and k in settings.bonus_kinds else -1
                for w, k in zip(table.words, table.kinds, strict=True)
            ]
        )
        self.person_ids = torch.tensor([vocab.index[w] for w in person_words if w in vocab.index])

    @classmethod
    def from_bundle(
        cls, bundle: Path, encoder_weights: Path, vocab: Vocabulary
    ) -> "Grounding | None":
        """The bundle's grounding, or None when it has none (then decoding is plain).
        The classifier is the `fc` layer kept in the encoder's weight file."""
        if not (bundle / GROUNDING_FILE).is_file():
            return None
        config = GroundingFile.load(bundle)
        head = load_file(str(bundle / HEAD_FILE))
        fc_weight, fc_bias = load_classifier(encoder_weights)
        return cls(
            fc_weight,
            fc_bias,
            head["weight"],
            head["bias"],
            head["familiar"],
            ConceptTable.load(bundle),
            vocab,
            config.person_words,
            config.settings,
            config.word_concepts,
        )

    def evidence(self, feats: torch.Tensor) -> Evidence:
        """feats (B, L, D) from any engine -> class probabilities and P(person)."""
        logp = class_log_probs(feats, self.classifier_weight, self.classifier_bias)  # (B, 1000)
        probs = logp.exp()
        person = torch.sigmoid(logp @ self.head_weight + self.head_bias)  # (B,)
        # (B, V): P(the photo shows each word's thing): its classes' probabilities added up
        concept = probs.new_zeros(len(probs), self.vocab_size)
        concept.index_add_(1, self.named_word, probs[:, self.named])
        other = concept.max(dim=1).values  # (B,)
        return Evidence(probs, person, other, probs @ self.familiar, concept)

    def decoding_bias(self, evidence: Evidence) -> tuple[torch.Tensor, torch.Tensor]:
        """-> bonus (B, V): added to a word's log-probability until a beam says it;
        ban (B, V) bool: words never said for that photo."""
        s = self.settings
        concept = evidence.concept
        # only the likeliest class's word, and only where its kind adds up to a confident concept
        # (not "animal" for a dog that some wolves resemble)
        word = self.asked_word[evidence.probs.argmax(dim=1)]  # (B,)
        rows = torch.arange(len(word))
        wanted = torch.zeros_like(concept, dtype=torch.bool)
        sure = (word >= 0) & (concept[rows, word.clamp(min=0)] >= s.concept_threshold)
        wanted[rows[sure], word[sure]] = True
        bonus = torch.where(wanted, s.bonus, 0.0)
        # animals need evidence: the decoder's Flickr8k habit is a dog in every scene
        ban = self.animal_words & (concept < s.ruled_out)
        ban |= self.object_words & (concept < s.object_ruled_out)
        ban = ban[:, self.spends]  # and their other words: no "puppy" where there is no dog
        # a confident cat, pizza or bus leaves less room for a person the head imagined
        beside = evidence.other >= s.beside_threshold
        needed = torch.where(beside, s.person_threshold_beside, s.person_threshold)
        unfamiliar = evidence.familiar < s.familiar_share
        needed = torch.where(unfamiliar, needed.clamp(min=s.person_threshold_unfamiliar), needed)
        no_person = evidence.person < needed  # (B,)
        if len(self.person_ids):
            ban[:, self.person_ids] = no_person.unsqueeze(1)
        return bonus, ban

    def judge(self, evidence: Evidence, scores: list[float]) -> list[Judgement]:
        """The tags of each photo and whether its caption (of mean log-prob `scores`) is a guess."""
        s = self.settings
        text = (evidence.probs * self.text).sum(dim=1)  # (B,)
        top, classes = evidence.probs.topk(s.max_tags, dim=1)
        judgements = []
        for b, score in enumerate(scores):
            tags = [
                (self.labels[int(c)], round(float(p), 3))
                for p, c in zip(top[b], classes[b], strict=True)
                if p >= s.tag_threshold
            ]
            doubt: Doubt | None = None
            if text[b] >= s.text_threshold:
                doubt = "text"
            elif not tags and score < s.unsure_score:
                doubt = "unfamiliar"
            judgements.append(Judgement(tags, doubt))
        return judgements


def grounded_beam_search(
    decoder: StepDecoder,
    feats: torch.Tensor,
    beam_size: int,
    max_length: int,
    length_penalty: float,
    grounding: "Grounding | None",
) -> tuple[list[list[Beam]], list[Judgement]]:
    """Beam search steered by `grounding` (plain where it is None, with no judgements)."""
    if grounding is None:
        return beam_search(decoder, feats, beam_size, max_length, length_penalty), []
    s = grounding.settings
    evidence = grounding.evidence(feats)
    bonus, ban = grounding.decoding_bias(evidence)
    found = beam_search(
        decoder,
        feats,
        beam_size,
        max_length,
        length_penalty,
        bonus=bonus if bool(bonus.any()) else None,  # most photos ask for nothing
        ban=ban,
        block_ngram=s.block_ngram,
        block_echo=s.block_echo,
        push=s.push,
        spends=grounding.spends,
        give_up_after=s.give_up_after,
    )
    return found, grounding.judge(evidence, [beams[0].score for beams in found])
