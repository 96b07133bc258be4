"""`python -m training evaluate --everyday DIR`: how truthful captions are on everyday photos.

Two kinds of folder (see ../shared/everyday):
- COCO-style: `references.json` ({"photo.jpg": [captions], ...}) and the photos in `images/`.
  Prints people invented (captions naming a person, among photos whose references name none),
  CHAIR-i and CHAIR-s over the 80 COCO categories (Rohrbach et al. 2018: of the category
  mentions, and of the captions, those that no reference mentions) and BLEU-4.
- ImageNet-named photos (`SYNSET_label.jpg`): the class is known, so it prints people invented on
  the animal and food photos and how often the caption names the dog, the cat and the bird.
Both print what a reader sees: the share of captions with a broken subject ("a small white is
sitting on a couch", see `fluency.py`), of degenerate captions (an n-gram said twice in a row, like
"white and white and white", or a caption that runs to the maximum length), of hedged sentences
built from the classifier's labels where no caption held up ("Probably a stove."), and of replies
that say their caption is a guess. COCO folders also print people recall: of the photos whose
references mostly name people, the share of captions that name one.

Words are matched after the project's tokenizer, singular and plural alike.
"""

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from captioning.captioner import Captioner, CaptionResult
from captioning.concepts import ConceptTable
from captioning.preprocessing import open_image
from captioning.vocabulary import tokenize
from training.fluency import broken_subject
from training.metrics import bleu

log = logging.getLogger(__name__)
BATCH = 16

# COCO's 80 categories and the caption words that name them (our list, after the categories).
COCO_WORDS: dict[str, str] = {
    "person": "person persons people man men woman women boy boys girl girls child children kid "
    "kids baby babies guy guys lady ladies player players skier skiers surfer surfers rider riders "
    "biker bikers cyclist skateboarder snowboarder chef cook batter catcher pitcher umpire crowd "
    "family couple someone somebody adult adults teenager teen toddler worker workers officer "
    "policeman soldier student students tourist tourists gentleman friends mother father son "
    "daughter he she",
    "bicycle": "bicycle bicycles bike bikes",
    "car": "car cars taxi suv",
    "motorcycle": "motorcycle motorcycles motorbike scooter",
    "airplane": "airplane airplanes plane planes jet jets aircraft airliner",
    "bus": "bus buses",
    "train": "train trains locomotive",
    "truck": "truck trucks",
    "boat": "boat boats ship ships canoe kayak sailboat",
    "traffic light": "stoplight",
    "fire hydrant": "hydrant",
    "stop sign": "stop",
    "parking meter": "meter",
    "bench": "bench benches",
    "bird": "bird birds duck ducks goose seagull pigeon parrot owl eagle swan chicken",
    "cat": "cat cats kitten kittens kitty",
    "dog": "dog dogs puppy puppies",
    "horse": "horse horses pony",
    "sheep": "sheep lamb",
    "cow": "cow cows cattle bull calf",
    "elephant": "elephant elephants",
    "bear": "bear bears",
    "zebra": "zebra zebras",
    "giraffe": "giraffe giraffes",
    "backpack": "backpack backpacks",
    "umbrella": "umbrella umbrellas",
    "handbag": "handbag purse",
    "tie": "tie ties",
    "suitcase": "suitcase suitcases luggage",
    "frisbee": "frisbee frisbees",
    "skis": "skis ski",
    "snowboard": "snowboard",
    "sports ball": "ball balls football soccer basketball baseball",
    "kite": "kite kites",
    "baseball bat": "bat",
    "baseball glove": "glove mitt",
    "skateboard": "skateboard skateboards",
    "surfboard": "surfboard surfboards",
    "tennis racket": "racket racquet",
    "bottle": "bottle bottles",
    "wine glass": "glass wineglass",
    "cup": "cup cups mug",
    "fork": "fork forks",
    "knife": "knife knives",
    "spoon": "spoon spoons",
    "bowl": "bowl bowls",
    "banana": "banana bananas",
    "apple": "apple apples",
    "sandwich": "sandwich sandwiches burger",
    "orange": "orange oranges",
    "broccoli": "broccoli",
    "carrot": "carrot carrots",
    "hot dog": "hotdog",
    "pizza": "pizza pizzas",
    "donut": "donut donuts doughnut",
    "cake": "cake cakes cupcake",
    "chair": "chair chairs",
    "couch": "couch couches sofa",
    "potted plant": "plant plants",
    "bed": "bed beds",
    "dining table": "table tables",
    "toilet": "toilet toilets",
    "tv": "tv television",
    "laptop": "laptop laptops computer",
    "mouse": "mouse",
    "remote": "remote",
    "keyboard": "keyboard",
    "cell phone": "phone phones cellphone",
    "microwave": "microwave",
    "oven": "oven stove",
    "toaster": "toaster",
    "sink": "sink sinks",
    "refrigerator": "refrigerator fridge",
    "book": "book books",
    "clock": "clock clocks",
    "vase": "vase vases",
    "scissors": "scissors",
    "teddy bear": "teddy",
    "hair drier": "dryer",
    "toothbrush": "toothbrush",
}
WORD_CATEGORY = {w: category for category, words in COCO_WORDS.items() for w in words.split()}
# ImageNet class indices (see ../shared/everyday/README.md)
DOGS, CATS = range(151, 269), range(281, 286)
BIRDS = [*range(7, 25), *range(80, 101), *range(127, 147)]
ANIMALS = range(398)
NAMES = {
    "dog": COCO_WORDS["dog"].split(),
    "cat": COCO_WORDS["cat"].split(),
    "bird": COCO_WORDS["bird"].split(),
}


@dataclass
class Captions:
    photos: list[str]
    captions: list[str]
    guesses: list[bool]  # the reply says the caption is a guess
    hedged: list[bool]  # the caption is a sentence of the classifier's labels ("objects")
    seconds: float


def categories(text: str) -> set[str]:
    return {WORD_CATEGORY[w] for w in tokenize(text) if w in WORD_CATEGORY}


def names_person(text: str) -> bool:
    return "person" in categories(text)


def degenerate(caption: str, max_length: int) -> bool:
    """A phrase said twice in a row ("white and white and"), or a caption that never ended."""
    words = tokenize(caption)
    if len(words) >= max_length:
        return True
    for n in (1, 2, 3):
        for i in range(len(words) - 2 * n + 1):
            if words[i : i + n] == words[i + n : i + 2 * n]:
                return True
    return False


def share(flags: Iterable[bool]) -> float:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else 0.0


def caption_photos(captioner: Captioner, paths: list[Path], beam: int | None) -> Captions:
    started = time.monotonic()
    results: list[CaptionResult] = []
    for start in range(0, len(paths), BATCH):
        images = [open_image(p) for p in paths[start : start + BATCH]]
        results += captioner.caption(images, beam)
    return Captions(
        [p.name for p in paths],
        [r.caption for r in results],
        [not r.confident for r in results],
        [r.kind == "objects" for r in results],
        time.monotonic() - started,
    )


def mostly_people(references: list[str]) -> bool:
    """Most of the references name a person: the photo is about people."""
    return sum(names_person(r) for r in references) * 2 > len(references)


def reader_figures(captions: list[str], hedged: list[bool]) -> dict[str, Any]:
    """What a reader sees: broken subjects (among the decoder's sentences) and hedged ones."""
    sentences = [c for c, h in zip(captions, hedged, strict=True) if not h]
    broken = [c for c in sentences if broken_subject(c)]
    return {
        "broken_subject": len(broken) / len(captions) if captions else 0.0,
        "broken_captions": broken,
        "hedged": share(hedged),
    }


def people_recall(captions: list[str], references: list[list[str]]) -> tuple[float, int]:
    """Of the photos whose references mostly name people, the share of captions naming one."""
    named = [names_person(c) for c, r in zip(captions, references, strict=True) if mostly_people(r)]
    return share(named), len(named)


def coco_figures(
    captions: list[str], references: list[list[str]], max_length: int
) -> dict[str, Any]:
    no_person = [not any(names_person(r) for r in refs) for refs in references]
    invented_people = [
        names_person(c) for c, empty in zip(captions, no_person, strict=True) if empty
    ]
    mentions, hallucinated, captions_with = 0, 0, 0
    for caption, refs in zip(captions, references, strict=True):
        truth = set().union(*(categories(r) for r in refs))
        said = [WORD_CATEGORY[w] for w in tokenize(caption) if w in WORD_CATEGORY]
        wrong = [c for c in said if c not in truth]
        mentions += len(said)
        hallucinated += len(wrong)
        captions_with += bool(wrong)
    recall, with_people = people_recall(captions, references)
    return {
        "photos": len(captions),
        "photos_without_people": sum(no_person),
        "people_invented": share(invented_people),
        "photos_with_people": with_people,
        "people_recall": recall,
        "chair_i": hallucinated / mentions if mentions else 0.0,
        "chair_s": captions_with / len(captions),
        "bleu4": bleu(captions, references)[3],
        "degenerate": share(degenerate(c, max_length) for c in captions),
    }


def imagenet_figures(
    photos: list[str], captions: list[str], table: ConceptTable, max_length: int
) -> dict[str, Any]:
    index = {wnid: i for i, wnid in enumerate(table.wnids)}
    classes = [index[name.split("_")[0]] for name in photos]
    animal_or_food = [
        names_person(c)
        for c, k in zip(captions, classes, strict=True)
        if k in ANIMALS or table.kinds[k] == "food"
    ]

    def named(kind: str, members: Iterable[int]) -> float:
        wanted = set(members)
        # its word ("dog"), or the class itself ("Probably a goldfinch.")
        return share(
            bool(set(tokenize(c)) & set(NAMES[kind])) or table.labels[k].lower() in c.lower()
            for c, k in zip(captions, classes, strict=True)
            if k in wanted
        )

    return {
        "photos": len(captions),
        "people_invented_on_animals_and_food": share(animal_or_food),
        "animal_and_food_photos": len(animal_or_food),
        "dogs_named": named("dog", DOGS),
        "cats_named": named("cat", CATS),
        "birds_named": named("bird", BIRDS),
        "cat_captions": [c for c, k in zip(captions, classes, strict=True) if k in CATS],
        "degenerate": share(degenerate(c, max_length) for c in captions),
    }


def evaluate_everyday(
    folder: Path, bundle: Path, engine: str, beam: int | None, grounded: bool, report: Path
) -> dict[str, Any]:
    captioner = Captioner.from_pretrained(bundle, engine=engine, grounded=grounded)
    table = ConceptTable.load(bundle)
    references_file = folder / "references.json"
    if references_file.is_file():
        refs: dict[str, list[str]] = json.loads(references_file.read_text())
        names = sorted(refs)
        done = caption_photos(captioner, [folder / "images" / n for n in names], beam)
        figures = coco_figures(done.captions, [refs[n] for n in names], captioner.max_length)
    else:
        paths = sorted(folder.glob("*.jpg")) + sorted(folder.glob("*.JPEG"))
        done = caption_photos(captioner, paths, beam)
        figures = imagenet_figures(done.photos, done.captions, table, captioner.max_length)
    figures |= reader_figures(done.captions, done.hedged)
    summary = {
        "folder": str(folder),
        "engine": engine,
        "beam": beam or captioner.beam_size,
        "grounded": grounded,
        "seconds": round(done.seconds, 1),
        **{k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()},
        "guesses": round(share(done.guesses), 4),
        "captions": dict(zip(done.photos, done.captions, strict=True)),
    }
    for key, value in summary.items():
        if key not in ("captions", "cat_captions"):
            log.info("%s: %s", key, value)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    log.info("report written to %s", report)
    return summary
