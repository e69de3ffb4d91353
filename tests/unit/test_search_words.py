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
