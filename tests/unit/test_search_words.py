"""Search words are keys: bounded, and cut the same way when indexing and when searching; and only a lost
race is reported as a concurrent change of a product."""

from __future__ import annotations

from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from chalicelib.catalog.errors import ProductChangedConcurrently, changed_concurrently_or_raise, lost_a_race
from chalicelib.catalog.search import MAX_WORD_LENGTH, index_words, query_words


def test_words_are_cut_to_a_key_sized_length_on_both_sides():
    long = "Ä" * 2100  # folds to 2,100 letters "a"
    indexed = index_words("Rye loaf", "bakery", f"One {long} loaf", "Bakkerij", [])
    assert max(len(word) for word in indexed) == MAX_WORD_LENGTH == 40
    assert "a" * 40 in indexed
    assert query_words(long) == ["a" * 40]
    assert len(f"WORD#{'a' * MAX_WORD_LENGTH}".encode()) < 2048


def _error(code: str, *reasons: str | None) -> TransactWriteError:
    cause = VerboseClientError(
        {"Error": {"Code": code, "Message": "refused"}},
        "TransactWriteItems",
        cancellation_reasons=[CancellationReason(code=r) if r else None for r in reasons],
    )
    return TransactWriteError("Failed to write transaction items", cause=cause)


def test_only_failed_conditions_and_conflicts_are_races():
    canceled = "TransactionCanceledException"
    assert lost_a_race(_error(canceled, None, "ConditionalCheckFailed"))
    assert lost_a_race(_error(canceled, "TransactionConflict", None))
    assert not lost_a_race(_error(canceled, None, "ValidationError"))
    assert not lost_a_race(_error(canceled, "ConditionalCheckFailed", "ValidationError"))
    assert not lost_a_race(_error("ValidationException"))
    assert not lost_a_race(_error(canceled))


def test_a_refused_write_is_raised_as_it_is():
    race = _error("TransactionCanceledException", "ConditionalCheckFailed")
    assert isinstance(changed_concurrently_or_raise(race, "prod_1"), ProductChangedConcurrently)
    refused = _error("ValidationException")
    try:
        changed_concurrently_or_raise(refused, "prod_1")
    except TransactWriteError as raised:
        assert raised is refused
    else:
        raise AssertionError("a refused write passed for a race")


def test_dutch_and_french_plurals_fold_onto_the_singular():
    from chalicelib.catalog.search import normalise

    pairs = {
        "taarten": "taart",  # nl -en
        "tassen": "tas",  # nl -en after a doubled consonant
        "keukens": "keuken",  # nl -s of a word in -en: both fold further, alike
        "appels": "appel",  # nl -s
        "croissants": "croissant",  # fr/en -s
        "bijoux": "bijou",  # fr -x
        "gateaux": "gateau",  # fr -eaux
        "chevaux": "cheval",  # fr -aux -> -al
        "journaux": "journal",
    }
    for plural, singular in pairs.items():
        assert normalise(plural) == normalise(singular), plural
    assert normalise("glass") == "glass" and normalise("bus") == "bus"  # -ss and short words kept
    # The Dutch -'s is split off by the apostrophe and dropped as a one-letter word.
    assert query_words("auto's") == query_words("auto")


def test_a_whole_word_of_the_name_ranks_above_a_beginning_or_the_description():
    from chalicelib.catalog.search import match_score

    words = index_words("Dark chocolate bar", "chocolate-sweets", "With chocolatier cream", "Shop", [])
    other = index_words("Praline box", "chocolate-sweets", "Dark chocolate", "Shop", [])
    assert match_score(["chocolate"], words, "Dark chocolate bar") == 4
    assert match_score(["choco"], words, "Dark chocolate bar") == 3
    assert match_score(["chocolate"], other, "Praline box") == 2
    assert match_score(["chocolatier"], words, "Dark chocolate bar") == 2
    assert match_score(["choco"], other, "Praline box") == 1
    assert match_score(["dark", "choco"], words, "Dark chocolate bar") == 7
