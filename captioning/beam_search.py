"""Beam search over a whole batch of photos at once, every beam a row of one tensor.

Scores are summed log-probabilities; a finished beam keeps its score and only extends with
<pad> at no cost. The final ranking divides each score by (caption length) ** length_penalty,
where the length counts the words and <end>. <pad>, <start> and <unk> are never generated.
"""

from dataclasses import dataclass

import torch

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
) -> list[list[Beam]]:
    """feats (B, L, D) -> for each photo, its beams, best first."""
    B, L, _ = feats.shape
    K, V = beam_size, decoder.config.vocab_size
    pad, start, end = Vocabulary.pad, Vocabulary.start, Vocabulary.end
    banned = torch.zeros(V, dtype=torch.bool)
    banned[[pad, start, Vocabulary.unk]] = True
    done_row = torch.full((V,), float("-inf"))  # what a finished beam may add: <pad>, for free
    done_row[pad] = 0.0

    feats = feats.repeat_interleave(K, dim=0)  # (B*K, L, D)
    h, c, feats_proj = decoder.init_state(feats)
    tokens = torch.full((B * K,), start, dtype=torch.long)
    scores = torch.full((B, K), float("-inf"))
    scores[:, 0] = 0.0  # all beams start equal: keep one so the first step has no duplicates
    history = torch.full((B, K, 0), pad, dtype=torch.long)  # (B, K, t)
    alphas = feats.new_zeros(B, K, 0, L)  # (B, K, t, L)
    finished = torch.zeros(B, K, dtype=torch.bool)

    for _ in range(max_length):
        logits, h, c, alpha = decoder.step(tokens, feats, feats_proj, h, c)
        logp = logits.log_softmax(dim=-1).masked_fill(banned, float("-inf")).view(B, K, V)
        # a finished beam extends only with <pad>, keeping its score
        logp = torch.where(finished.unsqueeze(2), done_row, logp)
        candidates = (scores.unsqueeze(2) + logp).view(B, K * V)  # (B, K*V)
        scores, flat = candidates.topk(K, dim=1)  # (B, K), sorted, deterministic on ties
        parent, word = flat // V, flat % V  # (B, K)

        rows = (parent + torch.arange(B).unsqueeze(1) * K).view(-1)  # (B*K,) into the flat beams
        h, c = h[rows], c[rows]
        history = torch.cat(
            [history.gather(1, parent.unsqueeze(2).expand_as(history)), word.unsqueeze(2)], dim=2
        )
        step_alpha = alpha.view(B, K, L).gather(1, parent.unsqueeze(2).expand(B, K, L))
        alphas = torch.cat(
            [alphas.gather(1, parent[:, :, None, None].expand_as(alphas)), step_alpha.unsqueeze(2)],
            dim=2,
        )  # (B, K, t+1, L)
        finished = finished.gather(1, parent) | (word == end) | (word == pad)
        tokens = word.view(-1)
        if bool(finished.all()):
            break

    lengths = ((history != pad) & (history != end)).sum(dim=2)  # words per beam
    ended = (history == end).any(dim=2)
    normalised = scores / (lengths + ended.long()).clamp(min=1).float() ** length_penalty
    results = []
    for b in range(B):
        beams = []
        for k in normalised[b].argsort(descending=True, stable=True).tolist():
            if scores[b, k] == float("-inf"):
                continue
            n = int(lengths[b, k])
            words = history[b, k, :n].tolist()
            beams.append(Beam(words, float(normalised[b, k]), alphas[b, k, :n].clone()))
        results.append(beams)
    return results
