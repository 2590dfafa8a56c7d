"""The rule engine as a specification: any JSON either validates or is refused with problems that
name the rule (never another error); evaluation never raises and unknown facts never give a yes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dancu.apps.social_loans import rules
from dancu.errors import DomainValidationError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=8,
)
RULE_KEYS = st.fixed_dictionaries(
    {
        k: json_values | st.sampled_from(["age", "eq", "in", "gte", "X_Y", "household_status"])
        for k in rules.REQUIRED
    }
)


@settings(max_examples=100, deadline=None)
@given(st.one_of(json_values, st.lists(RULE_KEYS, max_size=4)))
def test_any_json_validates_or_is_refused_naming_the_rule(value: Any) -> None:
    try:
        checked = rules.validate(value)
    except DomainValidationError as exc:
        assert exc.problems and all(p.field.startswith("rules") for p in exc.problems)
    else:
        assert isinstance(checked, list) and checked


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(list(rules.FACTS)), json_values, max_size=6))
def test_evaluation_never_raises_and_unknown_is_never_yes(facts: dict[str, Any]) -> None:
    import json
    from pathlib import Path

    programmes = json.loads((Path(rules.__file__).parent / "data" / "programmes.json").read_text("utf-8"))
    for p in programmes:
        outcomes = rules.evaluate(p["rules"], facts)
        assert len(outcomes) == len(p["rules"])
        if any(o.result == rules.UNKNOWN for o in outcomes):
            assert not rules.eligible(outcomes)
