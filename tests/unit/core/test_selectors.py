"""Label selectors: apimachinery's matching rules, and kubectl's -l syntax read into the model."""

from __future__ import annotations

import pytest

from liqoshortcut.core.selectors import SelectorSyntaxError, matches, parse, render
from liqoshortcut.core.traffic import LabelSelector, LabelSelectorRequirement


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("", {"a": "1"}, True),  # an empty selector selects everything
        ("tier=web", {"tier": "web"}, True),
        ("tier==web", {"tier": "web", "x": "y"}, True),
        ("tier=web", {"tier": "db"}, False),
        ("tier=web", {}, False),
        ("tier!=web", {}, True),  # != holds where the key is absent, as in Kubernetes
        ("tier!=web", {"tier": "web"}, False),
        ("env in (prod, staging)", {"env": "staging"}, True),
        ("env in (prod,staging)", {"env": "dev"}, False),
        ("env in (prod)", {}, False),
        ("env notin (prod)", {}, True),
        ("env notin (prod)", {"env": "prod"}, False),
        ("legacy", {"legacy": ""}, True),
        ("legacy", {}, False),
        ("!legacy", {}, True),
        ("!legacy", {"legacy": "yes"}, False),
        ("tier=web,env in (prod,staging),!legacy", {"tier": "web", "env": "prod"}, True),
        (
            "tier=web,env in (prod,staging),!legacy",
            {"tier": "web", "env": "prod", "legacy": ""},
            False,
        ),
        ("example.com/team=net", {"example.com/team": "net"}, True),
    ],
)
def test_parsed_selectors_match_as_kubernetes_does(
    text: str, labels: dict[str, str], expected: bool
) -> None:
    assert matches(parse(text), labels) is expected


def test_no_selector_matches_everything() -> None:
    assert matches(None, {}) is True


def test_the_model_and_the_text_agree() -> None:
    selector = parse("tier=web,env in (prod,staging),!legacy,owner")
    assert selector == LabelSelector(
        match_labels={"tier": "web"},
        match_expressions=(
            LabelSelectorRequirement(key="env", operator="In", values=("prod", "staging")),
            LabelSelectorRequirement(key="legacy", operator="DoesNotExist"),
            LabelSelectorRequirement(key="owner", operator="Exists"),
        ),
    )
    assert render(selector) == "tier=web,env in (prod,staging),!legacy,owner"
    assert parse(render(selector)) == selector


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("tier=web,tier=db", "already required"),
        ("env in ()", "at least one value"),
        ("=web", "no selector requirement"),
        ("tier=web!", "no selector requirement"),
        ("tier=" + "x" * 64, "at most 63"),
    ],
)
def test_bad_text_names_the_part_that_is_wrong(text: str, complaint: str) -> None:
    with pytest.raises(SelectorSyntaxError, match=complaint):
        parse(text)
