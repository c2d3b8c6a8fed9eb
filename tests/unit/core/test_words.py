"""Names in messages are quoted, and cut in the middle when very long."""

from __future__ import annotations

from liqoshortcut.core.words import NAME_SHOWN_MAX, cut, shown


def test_a_short_name_is_quoted_whole() -> None:
    assert shown("edge-a") == "'edge-a'"


def test_a_long_name_keeps_its_start_and_end_within_the_limit() -> None:
    name = "arn:aws:eks:eu-west-1:123456789012:cluster/" + "x" * 3000 + "-milan"
    short = cut(name)
    assert len(short) == NAME_SHOWN_MAX
    assert short.startswith("arn:aws:eks:eu-west-1:")
    assert short.endswith("x-milan")
    assert "..." in short
    assert shown(name) == f"'{short}'"


def test_a_name_at_the_limit_is_not_cut() -> None:
    assert cut("a" * NAME_SHOWN_MAX) == "a" * NAME_SHOWN_MAX
