"""US states written short: the table, and which forms stand for a state where."""

from __future__ import annotations

import pytest

from kg.article.abbreviations import _forms, state_of, table_path


def test_the_table_holds_the_fifty_states_each_with_its_own_formal_name():
    rows = [line.split("\t") for line in table_path().read_text("utf-8").splitlines() if not line.startswith("#")]
    assert len(rows) == 50
    formal = [r[1] for r in rows]
    assert len(set(formal)) == 50 and all(f.startswith(("State of ", "Commonwealth of ")) for f in formal)
    dotted, _ = _forms()
    assert all(form.endswith(".") for form in dotted), "every abbreviation in the table is written with its stop"


@pytest.mark.parametrize(
    ("text", "after_a_place", "state"),
    [
        ("Calif.", False, "State of California"),
        ("N.J.", False, "State of New Jersey"),
        ("Ky.", True, "Commonwealth of Kentucky"),
        ("Tenn", True, "State of Tennessee"),
        ("Tenn", False, None),
        ("TX", True, "State of Texas"),
        ("OR", False, None),
        ("Texas", True, None),
        ("Hallam.", True, None),
    ],
)
def test_a_dotted_abbreviation_stands_for_its_state_anywhere_and_a_bare_one_only_after_a_place(
    text, after_a_place, state
):
    assert state_of(text, after_a_place=after_a_place) == state
