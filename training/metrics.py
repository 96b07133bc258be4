"""Caption metrics with pycocoevalcap: BLEU-1..4, METEOR and CIDEr (METEOR needs Java).

Hypotheses and references are compared as our tokenizer writes them (lower case, no
punctuation), which matches the PTB tokenisation of the COCO toolkit on Flickr8k's text.
"""

from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor

from training.data import tokenized


def as_coco(hypotheses: list[str], references: list[list[str]]) -> tuple[dict, dict]:
    hyps = {i: [tokenized(h)] for i, h in enumerate(hypotheses)}
    refs = {i: [tokenized(r) for r in rs] for i, rs in enumerate(references)}
    return hyps, refs


def bleu(hypotheses: list[str], references: list[list[str]]) -> list[float]:
    """Corpus BLEU-1..4."""
    hyps, refs = as_coco(hypotheses, references)
    scores, _ = Bleu(4).compute_score(refs, hyps, verbose=0)
    return [float(s) for s in scores]


def all_metrics(hypotheses: list[str], references: list[list[str]]) -> dict[str, float]:
    hyps, refs = as_coco(hypotheses, references)
    b, _ = Bleu(4).compute_score(refs, hyps, verbose=0)
    meteor, _ = Meteor().compute_score(refs, hyps)
    cider, _ = Cider().compute_score(refs, hyps)
    return {
        "BLEU-1": b[0],
        "BLEU-2": b[1],
        "BLEU-3": b[2],
        "BLEU-4": b[3],
        "METEOR": float(meteor),
        "CIDEr": float(cider),
    }
