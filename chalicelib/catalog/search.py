"""Which words a product is found by. Pure: the same folding runs when indexing and when searching, so
"Crème brûlée" is found by "creme" and "brulee", and "croissants" by "croissant"."""

from __future__ import annotations

from chalicelib.core.text import words

MAX_INDEXED_WORDS = 30
MAX_QUERY_WORDS = 5
# Longer than any real word (Dutch compounds included): a word is a key (WORD#<word>), and DynamoDB
# refuses keys past 2,048 bytes, so a pasted hash or a run of letters is cut, here and in queries alike.
MAX_WORD_LENGTH = 40

_STOP_WORDS = frozenset(
    # English, Dutch and French filler words that would make huge, useless partitions.
    (
        "a an and the of for with in on to by or our your from at is are this that it its "
        "de het een en van voor met op te "
        "le la les un une des du et au aux pour avec sur"
    ).split()
)


def normalise(word: str) -> str:
    # A light plural strip is enough for shop goods ("boots"/"boot"); a real stemmer costs cold start.
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _meaningful(text: str) -> list[str]:
    return [normalise(w)[:MAX_WORD_LENGTH] for w in words(text) if len(w) >= 2 and w not in _STOP_WORDS]


def index_words(name: str, category: str, description: str, shop_name: str, options: list[str]) -> list[str]:
    """Distinct words in order of importance (name first), capped so a product's entries fit in one
    DynamoDB transaction with the product itself."""
    ordered: list[str] = []
    for text in [name, category.replace("-", " "), *options, shop_name, description]:
        for word in _meaningful(text):
            if word not in ordered:
                ordered.append(word)
    return ordered[:MAX_INDEXED_WORDS]


def query_words(q: str) -> list[str]:
    found: list[str] = []
    for word in _meaningful(q):
        if word not in found:
            found.append(word)
    return found[:MAX_QUERY_WORDS]
