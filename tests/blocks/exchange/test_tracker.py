"""The citizen data tracker (issue 5 item 6): the citizen sees every exchange that carried their
data — organisation, official, time, fields, purpose, case — and may flag one as unjustified;
the provider's data-protection officer sees and reviews the flags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dancu.blocks.exchange.models import AccessFlag, Message
from dancu.blocks.exchange.tracker import exchanges_for_citizen, flag_access, flags_for_review, review_flag
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.blocks.exchange.conftest import Call
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("adminunits")


def test_the_citizen_sees_who_received_which_fields_for_what(
    grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any, binh_hoan_kiem: Any
) -> None:
    grant()
    call("citizen", an_tay_ho.id_number, request_id="a")
    call("citizen", binh_hoan_kiem.id_number, request_id="b")
    call("citizen", an_tay_ho.id_number, request_id="c", purpose="data.cleaning")  # refused: no data left

    seen = exchanges_for_citizen(an_tay_ho.citizen_id)

    assert len(seen) == 1
    e = seen[0]
    assert e.organisation == "Bảo hiểm xã hội thành phố Hà Nội"
    assert e.official == "canbo.nguyenthimai"
    assert e.provider == "Công an thành phố Hà Nội"
    assert (e.purpose_code, e.purpose_vi) == ("public_service.processing", "Giải quyết thủ tục hành chính")
    assert e.case_reference == "HS-BHXH-2026-0042"
    assert e.fields == ["date_of_birth", "full_name", "id_number", "life_status"]
    assert not e.flagged


def test_household_members_each_see_the_exchange(
    grant: Callable[..., Any], call: Callable[..., Call], register: Callable[..., Any]
) -> None:
    from datetime import date

    from tests.blocks.registry.conftest import id_number

    head = register()
    wife = register(
        id_number=id_number(1987, "F", serial=424242),
        full_name="Trần Thị Bình",
        date_of_birth=date(1987, 5, 1),
        sex="F",
        relationship_to_head="spouse",
    )
    grant(service="household", purposes={"public_service.processing": ["full_name"]})
    assert call("household", head.id_number).status == 200
    assert [e.fields for e in exchanges_for_citizen(wife.citizen_id)] == [["full_name"]]


def test_a_flag_reaches_the_providers_data_protection_officer_only(
    grant: Callable[..., Any],
    call: Callable[..., Call],
    an_tay_ho: Any,
    binh_hoan_kiem: Any,
    police_admin: Person,
    bhxh_dpo: Person,
    make_person: Callable[..., Person],
) -> None:
    grant()
    call("citizen", an_tay_ho.id_number)
    msg = Message.objects.get()

    with pytest.raises(NotFound):  # not about Bình
        flag_access(binh_hoan_kiem.citizen_id, msg.pk, "Tôi không nộp hồ sơ nào")
    flag = flag_access(an_tay_ho.citizen_id, msg.pk, "Tôi không nộp hồ sơ bảo hiểm nào")
    with pytest.raises(DomainValidationError) as err:
        flag_access(an_tay_ho.citizen_id, msg.pk, "lần nữa")
    assert err.value.problems[0].rule == "already_flagged"
    assert exchanges_for_citizen(an_tay_ho.citizen_id)[0].flagged

    # The provider is the registry (Công an thành phố): its DPO reviews; BHXH's DPO does not see it.
    police_dpo = make_person("dpo.congan", org_code="CA-HN", kind="police_city", role="auditor")
    assert [f.pk for f in flags_for_review(police_dpo.actor)] == [flag.pk]
    assert flags_for_review(police_admin.actor)[0].reason == "Tôi không nộp hồ sơ bảo hiểm nào"
    assert flags_for_review(bhxh_dpo.actor) == []  # BHXH provides nothing here
    with pytest.raises(AccessDenied):
        flags_for_review(make_person("someone.else").actor)
    with pytest.raises(AccessDenied):
        review_flag(bhxh_dpo.actor, flag.pk, "không phải việc của tôi")
    reviewed = review_flag(police_dpo.actor, flag.pk, "Đã xác minh với BHXH: hồ sơ HS-BHXH-2026-0042 có thật")
    assert reviewed.status == AccessFlag.Status.REVIEWED
    assert flags_for_review(police_dpo.actor) == []
