"""Beam search over a whole batch of photos at once, every beam a row of one tensor.

Scores are summed log-probabilities; a finished beam keeps its score and only extends with
<pad> at no cost. The final ranking divides each score by (caption length) ** length_penalty,
where the length counts the words and <end>. <pad>, <start> and <unk> are never generated.

Nothing is banned inside the beam, so every caption is one the decoder would write: a word taken
away mid-sentence leaves a sentence without its subject ("a small white is sitting on a couch").
Two things steer it instead:
- `prefix` (B, P) forces each photo's first words ("a cat"), -1 where a photo's caption is free;
  the decoder continues a forced start fluently, and its words count in the score as any other;
- with `block_ngram` n, a beam never says the same n words twice: the word that would repeat an
  n-gram it already said gets -inf; with `block_echo`, a word never follows itself, directly or
  one word later ("green green grass", "white and white"). Both only stop degenerate loops.

Each step only records which beam every new beam came from and the word it added; the captions
and their attention are read back along those links once, at the end. A step is a handful of
tensor operations whatever the caption's length, so the decoder step's own cost dominates.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from captioning.engines.base import StepDecoder
from captioning.vocabulary import Vocabulary


@dataclass(frozen=True)
class Beam:
    tokens: list[int]  # word ids, without <start>, <end> or <pad>
    score: float  # length-normalised log-probability
    attention: torch.Tensor  # (len(tokens), L): where the decoder looked for each word


@torch.inference_mode()
def beam_search(
    decoder: StepDecoder,
    feats: torch.Tensor,
    beam_size: int,
    max_length: int,
    length_penalty: float = 1.0,
    *,
    prefix: torch.Tensor | None = None,
    block_ngram: int = 0,
    block_echo: bool = False,
) -> list[list[Beam]]:
    """feats (B, L, D) -> for each photo, its beams, best first.
    prefix (B, P) long: the words each caption starts with, -1 for none (from there on free);
    block_ngram: 0 to allow repeats; block_echo: no word right after itself or after itself and
    one other ("green green", "white and white")."""
    B, L, _ = feats.shape
    K, V = beam_size, decoder.config.vocab_size
    pad, start, end = Vocabulary.pad, Vocabulary.start, Vocabulary.end
    banned = torch.zeros(V)  # added to the log-probabilities: -inf for words never generated
    banned[[pad, start, Vocabulary.unk]] = float("-inf")
    done_row = torch.full((V,), float("-inf"))  # what a finished beam may add: <pad>, for free
    done_row[pad] = 0.0
    forced = prefix.repeat_interleave(K, dim=0) if prefix is not None else None  # (B*K, P)

    h, c, feats_proj = decoder.init_state(feats)  # once per photo, then copied to its K beams
    h, c = h.repeat_interleave(K, dim=0), c.repeat_interleave(K, dim=0)  # (B*K, H)
    feats = feats.repeat_interleave(K, dim=0)  # (B*K, L, D)
    feats_proj = feats_proj.repeat_interleave(K, dim=0)  # (B*K, L, A)
    tokens = torch.full((B * K,), start, dtype=torch.long)
    scores = torch.full((B, K), float("-inf"))
    scores[:, 0] = 0.0  # all beams start equal: keep one so the first step has no duplicates
    offsets = (torch.arange(B) * K).unsqueeze(1)  # (B, 1): each photo's first row
    finished = torch.zeros(B, K, dtype=torch.bool)
    parents, words, alphas = [], [], []  # per step: (B, K), (B, K), (B, K, L)
    said = torch.empty(B * K, 0, dtype=torch.long)  # (B*K, t): each beam's words so far

    for t in range(max_length):
        logits, h, c, alpha = decoder.step(tokens, feats, feats_proj, h, c)
        logp = logits.log_softmax(dim=-1) + banned  # (B*K, V)
        if forced is not None and t < forced.shape[1]:
            word = forced[:, t : t + 1]  # (B*K, 1): the forced word, -1 where free
            only = torch.full_like(logp, float("-inf")).scatter_(
                1, word.clamp(min=0), logp.gather(1, word.clamp(min=0))
            )  # (B*K, V): the forced word keeps its log-probability, every other word -inf
            logp = torch.where(word >= 0, only, logp)
        blocked: list[torch.Tensor] = []  # (B*K, n) words each beam may not say next
        if block_ngram and said.shape[1] >= block_ngram:
            blocked.append(_repeats(said, block_ngram, V))
        if block_echo and said.shape[1]:
            blocked.append(said[:, -2:])  # the last two words
        if blocked:
            padded = F.pad(logp, (0, 1))  # (B*K, V+1): column V takes the non-repeats
            logp = padded.scatter_(1, torch.cat(blocked, dim=1), float("-inf"))[:, :V]
        logp = logp.view(B, K, V)
        # a finished beam extends only with <pad>, keeping its score
        logp = torch.where(finished.unsqueeze(2), done_row, logp)
        scores, flat = (scores.unsqueeze(2) + logp).view(B, K * V).topk(K, dim=1)  # sorted
        parent, word = flat // V, flat % V  # (B, K)
        rows = (parent + offsets).view(-1)  # (B*K,) into the flat beams
        h, c = h.index_select(0, rows), c.index_select(0, rows)
        finished = finished.gather(1, parent) | (word == end) | (word == pad)
        parents.append(parent)
        words.append(word)
        alphas.append(alpha.view(B, K, L))
        tokens = word.view(-1)
        said = torch.cat([said.index_select(0, rows), tokens.unsqueeze(1)], dim=1)
        if bool(finished.all()):
            break

    # follow each final beam back to the start: its words and where it looked for each
    T = len(words)
    history = torch.empty(B, K, T, dtype=torch.long)
    attention = torch.empty(B, K, T, L)
    beam = torch.arange(K).expand(B, K)  # (B, K): which beam of step t each final beam passes
    for t in range(T - 1, -1, -1):
        history[:, :, t] = words[t].gather(1, beam)
        beam = parents[t].gather(1, beam)  # the beam that was extended at step t
        attention[:, :, t] = alphas[t].gather(1, beam.unsqueeze(2).expand(B, K, L))

    lengths = ((history != pad) & (history != end)).sum(dim=2)  # words per beam
    ended = (history == end).any(dim=2)
    norm = (lengths + ended.long()).clamp(min=1).float() ** length_penalty
    normalised = scores / norm
    results = []
    for b in range(B):
        beams = []
        for k in normalised[b].argsort(descending=True, stable=True).tolist():
            if scores[b, k] == float("-inf"):
                continue
            n = int(lengths[b, k])
            beams.append(
                Beam(history[b, k, :n].tolist(), float(normalised[b, k]), attention[b, k, :n])
            )
        results.append(beams)
    return results


def _repeats(said: torch.Tensor, n: int, V: int) -> torch.Tensor:
    """said (N, t) -> (N, t-n+1) the words that would end an n-gram said before, and V (one
    past the vocabulary, a column to throw away) where there is none."""
    prefix = said[:, -(n - 1) :]  # (N, n-1): the words the next n-gram starts with
    t = said.shape[1]
    # match[:, i]: the n-1 words at i.. equal the prefix, so said[:, i+n-1] must not come again
    match = said[:, : t - n + 1] == prefix[:, :1]
    for j in range(1, n - 1):
        match &= said[:, j : t - n + 1 + j] == prefix[:, j : j + 1]
    return torch.where(match, said[:, n - 1 :], V)
