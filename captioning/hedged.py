"""The caption where the decoder has nothing true to say: what the classifier recognised, hedged.

"Probably a stove and a refrigerator." says less than a made-up scene, and nothing false. The
things are ImageNet labels (English); the bot builds the same sentence in other languages from
their translations.
"""

PROBABLY = "Probably {things}."


def with_article(thing: str) -> str:
    """ "stove" -> "a stove", "orange" -> "an orange"."""
    return ("an " if thing[:1].lower() in "aeiou" else "a ") + thing


def join_things(things: list[str], conjunction: str = "and") -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    if len(things) < 2:
        return "".join(things)
    return f"{', '.join(things[:-1])} {conjunction} {things[-1]}"


def hedged_sentence(things: list[str]) -> str:
    """ImageNet labels -> "Probably a stove and a refrigerator." """
    return PROBABLY.format(things=join_things([with_article(t) for t in things]))
