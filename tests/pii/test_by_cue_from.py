"""`by_cue_from` promises that `by_cue` accepts nothing shorter: the redactor skips the cue
search for shorter digit runs on that promise, so it must hold for every number entity."""

import pytest

from qa_engine.pii.entities import NUMBER_ENTITIES


@pytest.mark.parametrize("entity", NUMBER_ENTITIES, ids=lambda e: e.name)
def test_by_cue_accepts_nothing_shorter_than_by_cue_from(entity):
    limit = entity.by_cue_from if entity.by_cue_from is not None else 25
    for length in range(1, limit):
        for first in "0123456789":
            for last in ("", "x"):
                digits = (first + "3" * length)[:length]
                digits = digits[:-1] + last if last and length > 1 else digits
                assert entity.by_cue(digits, "身份证") is None, (entity.name, digits)
