"""Grounding: what the encoder's own ImageNet classifier and a person detector say about a photo,
and how that chooses the caption.

From the mean-pooled encoder features (B, D) of any engine:
- the ImageNet classifier (ResNet-50's `fc`, 1000 classes) gives class probabilities; classes that
  share a caption word add up (the 118 dog breeds make "dog"), see `concepts.py`;
- a logistic "someone is in the photo" head over the classifier's 1000 log-probabilities,
  trained on Flickr8k's cached features with labels read off the captions (`python -m training
  person-head`), gives P(person); person words need it to be high, and higher still beside
  something else the classifier is sure of, or where the classifier's mass lies on classes
  Flickr8k's photos hardly show (a kitchen, a bathroom: there the head only repeats its prior).

The evidence never bans a word inside the beam: a word taken away mid-sentence leaves a sentence
without its subject ("a small white is sitting on a couch"). It chooses instead, per photo:
1. the best of the decoder's own beams that says nothing the evidence rules out (a person without
   evidence of one, a dog where the classifier sees none) and names the animal or food the
   classifier is sure of;
2. where no beam does, a second search that starts the caption with what the classifier
   recognises ("a cat", "a bus") and lets the decoder go on from there, again checked;
3. where that fails too, a short hedged sentence built from the recognised classes alone
   ("Probably a stove and a refrigerator."): saying less rather than something false.
The result says which kind of caption it is, what was recognised (tags), and whether the caption
is a guess (doubt): the photo looks like text or a screen, or neither the classifier nor the
decoder is sure.

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
    concept_threshold: float = 0.5  # P(concept) from which a caption must name it...
    subject_kinds: tuple[str, ...] = ("animal", "food")  # ...if it is one of these kinds
    lead_threshold: float = 0.3  # P(concept) from which a caption may be started with its word
    ruled_out: float = 0.1  # an animal the classifier finds less likely than this is not said
    person_threshold: float = 0.3  # below it, person words are not said
    beside_threshold: float = 0.5  # from this P(an animal or a food)...
    person_threshold_beside: float = 0.6  # ...P(person) must reach this for person words
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
    other: torch.Tensor  # (B,) P(the likeliest animal or food: what a photo is of, if not people)
    familiar: torch.Tensor  # (B,) P(a class that Flickr8k's photos show), see `save_person_head`
    concept: torch.Tensor  # (B, V) P(the photo shows each caption word's thing: "dog", "cat")


@dataclass(frozen=True)
class Rules:
    """What a caption of each photo may say and must name (checked on whole captions)."""

    forbidden: torch.Tensor  # (B, V) bool: words no caption of the photo may say
    subject: torch.Tensor  # (B,) the word a caption must name (or a synonym of it), -1: none
    lead: torch.Tensor  # (B,) the word a caption may be started with, -1: none


@dataclass(frozen=True)
class Judgement:
    tags: list[tuple[str, float]]  # (ImageNet label, probability), likeliest first
    doubt: Doubt | None  # why the caption is a guess; None when it is not


@dataclass(frozen=True)
class Choice:
    """One photo's caption: the decoder's beams that pass the rules, best first (empty where
    none does: then the caption is a sentence of the recognised `things`)."""

    beams: list[Beam]
    # where no beam passes: the things of the hedged sentence, (ImageNet label, probability)
    things: list[tuple[str, float]]
    judgement: Judgement


@dataclass
class GroundingFile:
    """What `grounding.json` holds."""

    person_words: list[str]
    settings: GroundingSettings = field(default_factory=GroundingSettings)
    word_concepts: dict[str, str] = field(default_factory=dict)  # puppy -> dog, dogs -> dog
    worn_words: list[str] = field(default_factory=list)  # what people wear: shirt, jacket
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
        settings = replace(settings, subject_kinds=tuple(settings.subject_kinds))  # a JSON list
        return cls(
            content["person_words"],
            settings,
            content.get("word_concepts", {}),
            content.get("worn_words", []),
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
        worn_words: list[str] | None = None,
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
        self.subject_words = torch.zeros(V, dtype=torch.bool)  # (V,) the kinds a photo is of
        self.subject_words[[w for i, w in named if table.kinds[i] in settings.subject_kinds]] = True
        # what a caption may start with ("a cat", "a bus"): things one counts, whose plural the
        # vocabulary has (not "food", "clothing")
        self.leads = torch.zeros(V, dtype=torch.bool)  # (V,)
        self.leads[
            [
                w
                for i, w in named
                if {vocab.words[w] + "s", vocab.words[w] + "es"} & vocab.index.keys()
            ]
        ] = True
        self.concept_of = torch.arange(V)  # (V,) "puppy" and "dogs" name "dog"
        for word, concept in (word_concepts or {}).items():
            if word in vocab.index and concept in vocab.index:
                self.concept_of[vocab.index[word]] = vocab.index[concept]
        self.vocab = vocab
        # the word a caption must name, by the photo's likeliest class (-1: none)
        self.subject_word = torch.tensor(
            [
                vocab.index[w] if w and k in settings.subject_kinds else -1
                for w, k in zip(table.words, table.kinds, strict=True)
            ]
        )
        self.person_ids = torch.tensor([vocab.index[w] for w in person_words if w in vocab.index])
        self.worn = torch.zeros(V, dtype=torch.bool)  # (V,): a caption led by a thing wears none
        self.worn[[vocab.index[w] for w in worn_words or [] if w in vocab.index]] = True

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
            config.worn_words,
        )

    def evidence(self, feats: torch.Tensor) -> Evidence:
        """feats (B, L, D) from any engine -> class probabilities and P(person)."""
        logp = class_log_probs(feats, self.classifier_weight, self.classifier_bias)  # (B, 1000)
        probs = logp.exp()
        person = torch.sigmoid(logp @ self.head_weight + self.head_bias)  # (B,)
        # (B, V): P(the photo shows each word's thing): its classes' probabilities added up
        concept = probs.new_zeros(len(probs), self.vocab_size)
        concept.index_add_(1, self.named_word, probs[:, self.named])
        other = torch.where(self.subject_words, concept, 0.0).max(dim=1).values  # (B,)
        return Evidence(probs, person, other, probs @ self.familiar, concept)

    def rules(self, evidence: Evidence) -> Rules:
        s = self.settings
        concept = evidence.concept  # (B, V)
        rows = torch.arange(len(concept))
        # the likeliest class's word, where its kind must be named and adds up to a confident
        # concept (not "animal" for a dog that some wolves resemble)
        word = self.subject_word[evidence.probs.argmax(dim=1)]  # (B,)
        sure = (word >= 0) & (concept[rows, word.clamp(min=0)] >= s.concept_threshold)
        subject = torch.where(sure, word, -1)
        # (B,): the likeliest thing a caption may start with
        best, best_word = torch.where(self.leads, concept, 0.0).max(dim=1)
        lead = torch.where(sure, word, torch.where(best >= s.lead_threshold, best_word, -1))
        # animals need evidence: the decoder's Flickr8k habit is a dog in every scene
        forbidden = self.animal_words & (concept < s.ruled_out)
        forbidden = forbidden[:, self.concept_of]  # and their other words: no "puppy", no dog
        # a confident cat or pizza leaves less room for a person the head imagined
        beside = evidence.other >= s.beside_threshold
        needed = torch.where(beside, s.person_threshold_beside, s.person_threshold)
        unfamiliar = evidence.familiar < s.familiar_share
        needed = torch.where(unfamiliar, needed.clamp(min=s.person_threshold_unfamiliar), needed)
        no_person = evidence.person < needed  # (B,)
        if len(self.person_ids):
            forbidden[:, self.person_ids] = no_person.unsqueeze(1)
        # a photo of people may leave its animal or food unnamed ("a man rides a horse" is fine
        # without "camel"); a photo without them is about that thing
        subject = torch.where(no_person, subject, -1)
        return Rules(forbidden, subject, lead)

    def passes(self, beam: Beam, rules: Rules, b: int) -> bool:
        """Whether photo b's caption `beam` says nothing ruled out and names its subject."""
        said = torch.tensor(beam.tokens, dtype=torch.long)
        if bool(rules.forbidden[b, said].any()):
            return False
        subject = int(rules.subject[b])
        return subject < 0 or bool((self.concept_of[said] == subject).any())

    def passes_led(self, beam: Beam, rules: Rules, b: int) -> bool:
        """`passes`, for a caption started with a thing: and it wears nothing ("a sign in a blue
        jacket" is the decoder going on about the person it wanted to see)."""
        worn = bool(self.worn[torch.tensor(beam.tokens, dtype=torch.long)].any())
        return not worn and self.passes(beam, rules, b)

    def start(self, word: int) -> list[int]:
        """The first words of a caption led by `word`: "a cat", "an elephant"."""
        article = "an" if self.vocab.words[word][0] in "aeiou" else "a"
        return [self.vocab.index[article], word]

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
) -> list[Choice]:
    """Each photo's caption chosen by the evidence (see the module's docstring); plain beam
    search where `grounding` is None. The search stays batched: the second one takes every photo
    that needs it at once."""
    if grounding is None:
        found = beam_search(decoder, feats, beam_size, max_length, length_penalty)
        return [Choice(beams, [], Judgement([], None)) for beams in found]
    s = grounding.settings
    evidence = grounding.evidence(feats)
    rules = grounding.rules(evidence)
    found = beam_search(
        decoder,
        feats,
        beam_size,
        max_length,
        length_penalty,
        block_ngram=s.block_ngram,
        block_echo=s.block_echo,
    )
    chosen = [
        [beam for beam in beams if grounding.passes(beam, rules, b)]
        for b, beams in enumerate(found)
    ]
    again = [b for b, beams in enumerate(chosen) if not beams and int(rules.lead[b]) >= 0]
    if again:
        prefix = torch.tensor([grounding.start(int(rules.lead[b])) for b in again])  # (B', 2)
        led = beam_search(
            decoder,
            feats[again],
            beam_size,
            max_length,
            length_penalty,
            prefix=prefix,
            block_ngram=s.block_ngram,
            block_echo=s.block_echo,
        )
        for b, beams in zip(again, led, strict=True):
            chosen[b] = [beam for beam in beams if grounding.passes_led(beam, rules, b)]
    scores = [beams[0].score if beams else found[b][0].score for b, beams in enumerate(chosen)]
    judgements = grounding.judge(evidence, scores)
    likeliest = evidence.probs.argmax(dim=1)  # (B,)
    choices = []
    for b, (beams, judgement) in enumerate(zip(chosen, judgements, strict=True)):
        # the hedged sentence's things: what was recognised, or else the likeliest class alone
        top = int(likeliest[b])
        things = judgement.tags or [
            (grounding.labels[top], round(float(evidence.probs[b, top]), 3))
        ]
        choices.append(Choice(beams, things if not beams else [], judgement))
    return choices
