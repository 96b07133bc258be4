"""The table from the ImageNet classifier's 1000 classes to caption words, as the bundle keeps it.

`imagenet_words.tsv`, one row a class in the classifier's order, tab-separated with a header:
index, wnid (the WordNet 3.0 id), label (its English name), word (the caption vocabulary's word
for it, or empty), kind (animal, food, person, text or object). Made by
`python -m training imagenet-words`; meant to be read, and corrected, by hand.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast, get_args

Kind = Literal["animal", "food", "person", "text", "object"]
KINDS: tuple[str, ...] = get_args(Kind)
TABLE_FILE = "imagenet_words.tsv"
CLASSES = 1000
HEADER = ("index", "wnid", "label", "word", "kind")


class TableError(ValueError):
    """The table file is not one row for each of the 1000 classes, in order."""


@dataclass(frozen=True)
class ConceptTable:
    wnids: tuple[str, ...]
    labels: tuple[str, ...]
    words: tuple[str, ...]  # "" where the vocabulary has no word for the class
    kinds: tuple[Kind, ...]

    @classmethod
    def from_rows(cls, rows: list[tuple[str, str, str, Kind]]) -> "ConceptTable":
        """rows: (wnid, label, word, kind) for each class, in the classifier's order."""
        wnids, labels, words, kinds = zip(*rows, strict=True)
        return cls(wnids, labels, words, kinds)

    def save(self, bundle: Path) -> Path:
        path = bundle / TABLE_FILE
        lines = ["\t".join(HEADER)]
        rows = zip(self.wnids, self.labels, self.words, self.kinds, strict=True)
        lines += [
            f"{i}\t{w}\t{label}\t{word}\t{kind}" for i, (w, label, word, kind) in enumerate(rows)
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, bundle: Path) -> "ConceptTable":
        path = bundle / TABLE_FILE
        lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
        if tuple(lines[0].split("\t")) != HEADER:
            raise TableError(f"{path}: the first line must be {' '.join(HEADER)}")
        rows: list[tuple[str, str, str, Kind]] = []
        for number, line in enumerate(lines[1:]):
            fields = line.split("\t")
            if len(fields) != len(HEADER) or fields[0] != str(number):
                raise TableError(f"{path}: line {number + 2} is not row {number} of 5 fields")
            if fields[4] not in KINDS:
                raise TableError(f"{path}: line {number + 2}: unknown kind {fields[4]!r}")
            rows.append((fields[1], fields[2], fields[3], cast(Kind, fields[4])))
        if len(rows) != CLASSES:
            raise TableError(f"{path}: {len(rows)} rows, the classifier has {CLASSES} classes")
        return cls.from_rows(rows)
