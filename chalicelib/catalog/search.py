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


_VOWELS = frozenset("aeiouy")


def normalise(word: str) -> str:
    """Folds the plurals of the mall's languages onto one form, the same on both sides (so a folded form
    need not be a real word): Dutch -s, -'s (the apostrophe already splits words) and -en ("taarten",
    "tassen" -> "tas"), French -s, -x ("bijoux", "gateaux") and -aux -> -al ("chevaux" -> "cheval"). A
    real stemmer costs cold start; irregular plurals ("broden"/"brood", "loaves") stay apart."""
    if len(word) <= 3:
        return word
    if word.endswith("aux") and not word.endswith("eaux") and len(word) > 4:
        return word[:-3] + "al"
    if word.endswith(("eaux", "eux", "oux")):
        return word[:-1]
    if word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]  # "keukens" -> "keuken", then -en below like "keuken" itself
    if word.endswith("en") and len(word) > 5:
        stem = word[:-2]
        # Dutch doubles a consonant before -en ("tassen", "potten"): undo it.
        if stem[-1] == stem[-2] and stem[-1] not in _VOWELS:
            stem = stem[:-1]
        return stem
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


def name_words(name: str) -> frozenset[str]:
    return frozenset(_meaningful(name))


def match_score(query: list[str], product_words: list[str], name: str) -> int:
    """How well a product matches (higher is better): per query word, a whole word beats a word that
    only begins with it, and a word of the name beats one of the description, options or shop."""
    in_name = name_words(name)
    score = 0
    for wanted in query:
        best = 0
        for word in product_words:
            if word == wanted:
                best = max(best, 4 if word in in_name else 2)
            elif word.startswith(wanted):
                best = max(best, 3 if word in in_name else 1)
        score += best
    return score


def word_text(product_words: list[str]) -> str:
    """The words as one string, each after a space: `contains(word_text, " choc")` is a filter that finds
    a word by its beginning (a list attribute only matches whole elements)."""
    return "".join(f" {word}" for word in product_words)


def query_words(q: str) -> list[str]:
    found: list[str] = []
    for word in _meaningful(q):
        if word not in found:
            found.append(word)
    return found[:MAX_QUERY_WORDS]
