"""Property tests: resolve_address never fails on arbitrary input other than with
DomainValidationError, and what it returns is always consistent with the data."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dancu.blocks.adminunits.catalogue import catalogue
from dancu.blocks.adminunits.services import ResolvedAddress, resolve_address
from dancu.errors import DomainValidationError

_cat = catalogue()
_NAMES = sorted(
    {u.full_name for u in _cat.legacy_wards.values() if u.province_code == "01"}
    | {u.full_name for u in _cat.legacy_districts.values()}
    | {u.full_name for u in _cat.legacy_provinces.values()}
    | {u.full_name for u in _cat.wards.values() if u.province_code in {"01", "79"}}
)
_PIECES = st.one_of(
    st.sampled_from(_NAMES),
    st.sampled_from(
        ["P.", "Q.", "TP", "TX", "TT", "X.", "H.", "HN", "HCM", ",", " ", "-", "Số 12", "12", "ngõ"]
    ),
    st.text(max_size=8),
)
_ADDRESSES = st.lists(_PIECES, max_size=10).map(" ".join)


def _check(value: object) -> None:
    try:
        result = resolve_address(value)  # type: ignore[arg-type]
    except DomainValidationError as exc:
        assert all(p.field == "address" for p in exc.problems)
        return
    if result is None:
        return
    assert isinstance(result, ResolvedAddress)
    assert unicodedata.is_normalized("NFC", result.text)
    assert result.text.startswith(result.street)
    assert 0.0 <= result.confidence <= 1.0
    assert result.method in {"exact", "folded", "fuzzy"}
    assert result.legacy_ward_code or result.ward_code
    if result.legacy_ward_code:
        ward = _cat.legacy_wards[result.legacy_ward_code]
        assert (ward.district_code, ward.province_code) == (
            result.legacy_district_code,
            result.legacy_province_code,
        )
    if result.ward_code:
        assert _cat.wards[result.ward_code].province_code == result.province_code
        assert result.ward_code in result.ward_candidates


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=600))
def test_arbitrary_unicode_text_including_surrogates_never_raises_anything_else(text: str) -> None:
    _check(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ADDRESSES)
def test_address_like_text_built_from_real_unit_names_never_raises_anything_else(text: str) -> None:
    _check(text)


@settings(max_examples=50, deadline=None)
@given(st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text()), st.floats()))
def test_values_that_are_not_text_are_a_validation_error(value: object) -> None:
    try:
        resolve_address(value)  # type: ignore[arg-type]
    except DomainValidationError as exc:
        assert [(p.field, p.rule) for p in exc.problems] == [("address", "type")]
    else:
        raise AssertionError("expected DomainValidationError")
