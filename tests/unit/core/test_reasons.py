"""Every reason a condition may give is a valid metav1.Condition reason and is documented."""

from __future__ import annotations

import re
from pathlib import Path

from liqoshortcut.core.reasons import every_reason
from liqoshortcut.core.status import CONDITION_REASON_PATTERN

DOCS = Path(__file__).parents[3] / "docs"


def test_every_reason_is_a_condition_reason_and_is_documented() -> None:
    documented = (DOCS / "operator.md").read_text() + (DOCS / "traffic.md").read_text()
    reasons = every_reason()
    assert len(set(reasons)) == len(reasons)  # no reason means two things
    for reason in reasons:
        assert re.fullmatch(CONDITION_REASON_PATTERN, reason), reason
        assert f"`{reason}`" in documented, f"{reason} is not in docs/operator.md or traffic.md"
