"""Words <-> ids, with a deterministic tokenizer that needs no downloads."""

import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
SPECIALS = (PAD, START, END, UNK)
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+")


def tokenize(text: str) -> list[str]:
    """Lower-case words and numbers; punctuation dropped ("A dog's ball." -> a, dog's, ball)."""
    return _TOKEN.findall(text.lower())


class Vocabulary:
    def __init__(self, words: list[str]) -> None:
        assert tuple(words[: len(SPECIALS)]) == SPECIALS, "specials come first"
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}

    pad, start, end, unk = 0, 1, 2, 3

    @classmethod
    def build(cls, captions: Iterable[str], min_count: int) -> "Vocabulary":
        """Keep words seen at least `min_count` times; ties broken alphabetically."""
        counts = Counter(w for c in captions for w in tokenize(c))
        kept = sorted(
            (w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w)
        )
        return cls([*SPECIALS, *kept])

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, text: str) -> list[int]:
        """text -> [<start>, ids..., <end>]"""
        ids = [self.index.get(w, self.unk) for w in tokenize(text)]
        return [self.start, *ids, self.end]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """ids -> words, stopping at <end> and leaving out <start> and <pad>."""
        words = []
        for i in ids:
            if i == self.end:
                break
            if i not in (self.pad, self.start):
                words.append(self.words[i])
        return words

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.words, ensure_ascii=False, indent=0) + "\n")

    @classmethod
    def load(cls, path: Path) -> "Vocabulary":
        return cls(json.loads(path.read_text()))
