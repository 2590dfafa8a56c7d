"""Social-policy loans as the Vietnam Bank for Social Policies' credit officer uses them (model 20):
a commune list cleaned against the registry and imported by Sở LĐTBXH; the officer asks "is this
person eligible for programme X?" and gets yes/no with the reason of each rule. The registry's
facts come through the data-exchange gateway, signed and logged, under the bank's grant; the
officer never sees the household's data. Denials: the list owner may not decide, the officer may
not publish rules, a hotel clerk and a department that takes no part see nothing."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from dancu.apps.social_loans import services
from dancu.apps.social_loans.models import Decision, ListEntry, Loan, Programme, RuleSet
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.audit.services import events_for_citizen
from dancu.blocks.exchange.models import Message
from dancu.blocks.registry.dto import CitizenView
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.apps.social_loans.conftest import LIST, TAY_HO, clean
from tests.conftest import Person


def _failed(d: services.DecisionView) -> set[str]:
    return {r["reason"] for r in d.reasons if r["result"] != "pass"}


def test_the_cleaned_list_carries_id_numbers_statuses_and_households(
    tay_ho_list: services.ListView,
) -> None:
    entries = {e.row_no: e for e in ListEntry.objects.filter(beneficiary_list_id=tay_ho_list.list_id)}
    assert tay_ho_list.entries == 6 and tay_ho_list.with_id == 5
    assert (entries[1].id_number, entries[1].status, entries[1].full_name) == (
        "001085012345",
        "poor",
        "NGUYEN VAN AN",
    )
    assert entries[2].household_head_id_number == "001085012345"  # Bình, in An's household
    assert entries[5].status == "near_poor"
    assert (entries[6].id_number, entries[6].cleaning_result) == ("", "unmatched")


def test_a_poor_household_head_is_eligible_and_each_rule_says_why(
    bank_officer: Person, tay_ho_list: services.ListView, households: dict[str, CitizenView]
) -> None:
    d = services.decide(bank_officer.actor, "HN", "001085012345")
    assert d.eligible and _failed(d) == set()
    assert [r["code"] for r in d.reasons] == [
        "household_status",
        "age",
        "residence",
        "alive",
        "household",
        "not_borrowing",
    ]
    assert all(r["basis"] for r in d.reasons)
    # the registry's facts came through the gateway: two signed, logged exchanges of the bank's client
    msgs = Message.objects.filter(pk__in=d.exchange_messages)
    assert msgs.count() == 2 and {m.status for m in msgs} == {200}
    assert all(m.request["client"].endswith("/NHCSXH-HN/TINDUNG") and m.response_signature for m in msgs)
    # and An sees on his access history that the bank's system read his record
    an = households["an"].citizen_id
    assert any("Ngân hàng Chính sách xã hội" in e.organisation for e in events_for_citizen(an))
    ev = AuditEvent.objects.get(action="social_loans.decide")
    assert ev.detail["decision"] == d.reference and ev.detail["eligible"] is True


def test_each_reason_for_a_no(
    bank_officer: Person, tay_ho_list: services.ListView, households: dict[str, CitizenView]
) -> None:
    actor = bank_officer.actor
    assert _failed(services.decide(actor, "HN", "001190012346")) == {"NOT_RESIDENT_IN_COMMUNE"}
    assert _failed(services.decide(actor, "HN", "001060012348")) == {"DECEASED"}
    assert _failed(services.decide(actor, "HN", "001192012349")) == {"NOT_POOR_HOUSEHOLD"}
    assert services.decide(actor, "HCN", "001192012349").eligible  # near-poor programme
    assert services.decide(actor, "HN", "001188012347").eligible  # Bình, member of An's household
    hn = Programme.objects.get(code="HN")
    Loan.objects.create(organisation_id=actor.organisation_id or 0, programme=hn, id_number="001085012345",
                        amount_vnd=50_000_000, disbursed_on="2025-05-01")  # fmt: skip
    assert _failed(services.decide(actor, "HN", "001085012345")) == {"ALREADY_BORROWING"}


def test_a_person_named_in_another_household_is_not_in_the_listed_household(
    bank_officer: Person, list_owner: Person, households: dict[str, CitizenView]
) -> None:
    # Dung listed under An's household: the registry says she heads her own
    job = clean(
        list_owner,
        "Họ và tên,Ngày sinh,Số CCCD,Chủ hộ,Loại\n"
        "Đỗ Thị Dung,20/11/1992,001192012349,001085012345,Hộ nghèo\n",
        "x.csv",
    )
    services.import_list(
        list_owner.actor,
        job,
        ward_code=TAY_HO,
        year=2025,
        title="x",
        status_column="Loại",
        head_column="Chủ hộ",
    )
    d = services.decide(bank_officer.actor, "HN", "001192012349")
    assert _failed(d) == {"NOT_IN_LISTED_HOUSEHOLD"}


def test_a_person_on_no_list_is_not_eligible_and_unknown_facts_never_give_a_yes(
    bank_officer: Person, tay_ho_list: services.ListView, households: dict[str, CitizenView], register: Any
) -> None:
    register(
        id_number="001095012350",
        full_name="Vũ Văn Em",
        date_of_birth=__import__("datetime").date(1995, 1, 1),
        sex="M",
    )
    d = services.decide(bank_officer.actor, "HN", "001095012350")
    assert not d.eligible
    results = {r["code"]: r["result"] for r in d.reasons}
    assert results["household_status"] == "fail" and results["residence"] == "unknown"


def test_the_bank_gets_only_its_granted_fields_and_a_revoked_grant_gives_no_yes(
    bank_officer: Person, tay_ho_list: services.ListView, households: dict[str, CitizenView]
) -> None:
    from dancu.blocks.exchange.models import Grant

    d = services.decide(bank_officer.actor, "HN", "001085012345")
    household = Message.objects.get(pk=d.exchange_messages[0])
    items = household.response["body"]["data"]["items"]
    assert set(items[0]) <= {"id_number", "date_of_birth", "relationship_to_head", "life_status"}
    assert all("full_name" not in i for i in items)  # not granted: least data
    Grant.objects.filter(client__member__member_code="NHCSXH-HN").update(status=Grant.Status.REVOKED)
    again = services.decide(bank_officer.actor, "HN", "001085012345")
    assert not again.eligible and {r["result"] for r in again.reasons if r["code"] == "alive"} == {"unknown"}
    assert Message.objects.filter(pk__in=again.exchange_messages, status=403).count() == 2


def test_a_whole_list_is_checked_and_exported_escaped(
    bank_officer: Person, tay_ho_list: services.ListView, households: dict[str, CitizenView]
) -> None:
    out = services.decide_list(bank_officer.actor, tay_ho_list.list_id, "HN")
    assert len(out) == 5  # the unmatched row has no ID number
    name, content = services.export_decisions(bank_officer.actor, fmt="csv", list_id=tay_ho_list.list_id)
    text = content.decode("utf-8-sig")
    assert name.endswith(".csv") and "DECEASED" in text and "NOT_RESIDENT_IN_COMMUNE" in text
    assert text.count("\n") == 6
    _, xlsx = services.export_decisions(bank_officer.actor, fmt="xlsx")
    ws = load_workbook(io.BytesIO(xlsx)).active
    assert ws is not None and ws.max_row == 6
    with pytest.raises(DomainValidationError):
        services.export_decisions(bank_officer.actor, fmt="pdf")


def test_formula_cells_in_names_are_escaped_in_the_export(
    bank_officer: Person, list_owner: Person, households: dict[str, CitizenView]
) -> None:
    job = clean(
        list_owner,
        "Họ và tên,Ngày sinh,Số CCCD,Loại\n=Nguyễn Văn An,02/03/1985,001085012345,Hộ nghèo\n",
        "f.csv",
    )
    lst = services.import_list(
        list_owner.actor, job, ward_code=TAY_HO, year=2025, title="f", status_column="Loại"
    )
    services.decide_list(bank_officer.actor, lst.list_id, "HN")
    _, content = services.export_decisions(bank_officer.actor, fmt="csv")
    text = content.decode("utf-8-sig")
    assert "'=Nguyễn Văn An" in text and ",=" not in text


def test_rules_are_data_a_new_version_changes_the_answer_and_is_cited(
    bank_officer: Person,
    bank_admin: Person,
    tay_ho_list: services.ListView,
    households: dict[str, CitizenView],
) -> None:
    current = services.rules_in_force("HN")
    changed = [dict(r, value=45) if r["code"] == "age" else r for r in current.rules]
    import json

    rs = services.publish_rules(bank_admin.actor, "HN", json.dumps(changed), note="Thử nghiệm: từ 45 tuổi")
    assert rs.version == 2 and services.rules_in_force("HN").pk == rs.pk
    d = services.decide(bank_officer.actor, "HN", "001085012345")  # An is 41
    assert (d.rule_version, _failed(d)) == (2, {"UNDER_18"})
    assert Decision.objects.get(reference=d.reference).rule_set_id == rs.pk


def test_bad_rules_are_refused_naming_the_rule_and_nothing_is_stored(bank_admin: Person) -> None:
    import json

    texts = {"text_vi": "x", "text_en": "x", "basis": "x"}
    bad = [
        {"code": "x", "fact": "age", "op": "between", "value": 1, "reason": "X", **texts},
        {"code": "y", "fact": "income", "op": "gte", "value": "a", "reason": "lower", **texts, "text_vi": ""},
    ]
    with pytest.raises(DomainValidationError) as err:
        services.publish_rules(bank_admin.actor, "HN", json.dumps(bad), note="x")
    fields = {(p.field, p.rule) for p in err.value.problems}
    assert ("rules[0].op", "unknown_operator") in fields and ("rules[1].fact", "unknown_fact") in fields
    assert ("rules[1].reason", "reason_code") in fields and ("rules[1].text_vi", "text") in fields
    with pytest.raises(DomainValidationError) as not_json:
        services.publish_rules(bank_admin.actor, "HN", "{", note="x")
    assert not_json.value.problems[0].rule == "json"
    assert RuleSet.objects.filter(programme__code="HN").count() == 1


def test_a_list_with_an_unknown_status_is_refused_whole(
    list_owner: Person, households: dict[str, CitizenView]
) -> None:
    job = clean(list_owner, LIST.replace("Cận nghèo", "Khá giả"), "bad.csv")
    with pytest.raises(DomainValidationError) as err:
        services.import_list(
            list_owner.actor, job, ward_code=TAY_HO, year=2025, title="x", status_column="Phân loại hộ"
        )
    assert err.value.problems[0].field == "rows[5].Phân loại hộ"
    assert not ListEntry.objects.exists()
    ok = services.import_list(
        list_owner.actor,
        clean(list_owner),
        ward_code=TAY_HO,
        year=2025,
        title="x",
        status_column="Phân loại hộ",
    )
    with pytest.raises(DomainValidationError) as dup:
        services.import_list(
            list_owner.actor,
            ok.list_id and job,
            ward_code=TAY_HO,
            year=2025,
            title="x",
            status_column="Phân loại hộ",
        )
    assert dup.value.problems[0].field == "rows[5].Phân loại hộ"
    with pytest.raises(DomainValidationError) as bad_ward:
        services.import_list(
            list_owner.actor, job, ward_code="1", year=2025, title="x", status_column="Phân loại hộ"
        )
    assert bad_ward.value.problems[0].field == "ward_code"


# --------------------------------------------------------------------------- denials
def test_the_list_owner_may_not_decide_and_the_refusal_is_audited(
    list_owner: Person, tay_ho_list: services.ListView
) -> None:
    before = Message.objects.count()
    with pytest.raises(AccessDenied):
        services.decide(list_owner.actor, "HN", "001085012345")
    assert (
        AuditEvent.objects.filter(action="social_loans.decide", result=AuditEvent.Result.DENIED).count() == 1
    )
    assert Message.objects.count() == before  # nothing went through the gateway


def test_the_bank_officer_may_not_import_lists_or_publish_rules(bank_officer: Person) -> None:
    with pytest.raises(AccessDenied):
        services.finished_jobs(bank_officer.actor)
    with pytest.raises(AccessDenied):
        services.publish_rules(bank_officer.actor, "HN", "[]", note="x")
    assert AuditEvent.objects.filter(
        action="social_loans.rules_publish", result=AuditEvent.Result.DENIED
    ).exists()


def test_another_list_owner_does_not_see_the_list(
    make_person: Callable[..., Person], tay_ho_list: services.ListView
) -> None:
    from dancu.apps.social_loans.models import Participant

    other = make_person(
        "officer.sonv",
        org_code="SO-NV-X",
        org_name="Sở Nội vụ",
        kind="department",
        role="officer",
        province="01",
    )
    Participant.objects.create(
        organisation_id=other.actor.organisation_id or 0, role=Participant.Role.LIST_OWNER
    )
    assert services.lists_for(other.actor) == []
    with pytest.raises(NotFound):
        services.get_list(other.actor, tay_ho_list.list_id)


def test_a_hotel_clerk_and_a_department_taking_no_part_are_refused(
    hotel_clerk: Person,
    make_person: Callable[..., Person],
    logged_in: Callable[[Person], Client],
    seeded: Any,
) -> None:
    with pytest.raises(AccessDenied):
        services.decide(hotel_clerk.actor, "HN", "001085012345")
    health = make_person(
        "officer.yte", org_code="SO-YT", org_name="Sở Y tế", kind="department", role="officer", province="01"
    )
    with pytest.raises(AccessDenied):
        services.lists_for(health.actor)
    page = logged_in(hotel_clerk).get("/vay-von/")
    assert page.status_code == 403 and b'data-testid="not-authorised"' in page.content


# --------------------------------------------------------------------------- pages
def test_the_officer_checks_a_person_in_the_pages_and_sees_reasons_not_household_data(
    bank_officer: Person,
    tay_ho_list: services.ListView,
    households: dict[str, CitizenView],
    logged_in: Callable[[Person], Client],
) -> None:
    c = logged_in(bank_officer)
    home = c.get("/vay-von/")
    assert (
        home.status_code == 200
        and b'data-testid="check"' in home.content
        and b'data-testid="import"' not in home.content
    )
    r = c.post("/vay-von/kiem-tra/", {"id_number": "001188012347", "programme": "HN"})
    assert r.status_code == 302
    page = c.get(r["Location"])
    assert page.status_code == 200 and b'data-testid="verdict"' in page.content
    assert b"001085012345" not in page.content  # her household's head is not shown
    bad = c.post("/vay-von/kiem-tra/", {"id_number": "12345678901x", "programme": "HN"})
    assert bad.status_code == 400 and b'data-testid="problems"' in bad.content
    listed = c.post(f"/vay-von/danh-sach/{tay_ho_list.list_id}/", {"programme": "HN"})
    assert listed.status_code == 302
    table = c.get(listed["Location"])
    # five rows with an ID number, and Bình's decision above (she is on this list)
    assert table.content.count(b'data-testid="decision"') == 6 and b'data-testid="chart"' in table.content
    export = c.get(f"/vay-von/quyet-dinh/export.xlsx?list={tay_ho_list.list_id}")
    assert export.status_code == 200 and export["Content-Disposition"].endswith('.xlsx"')


def test_the_list_owner_imports_in_the_pages_and_may_not_check_a_list(
    list_owner: Person, households: dict[str, CitizenView], logged_in: Callable[[Person], Client]
) -> None:
    job = clean(list_owner)
    c = logged_in(list_owner)
    home = c.get("/vay-von/")
    assert b'data-testid="import"' in home.content and b'data-testid="check"' not in home.content
    form = {"job": str(job), "title": "Tây Hồ", "ward_code": TAY_HO, "year": "2025",
            "status_column": "Phân loại hộ", "head_column": "Chủ hộ"}  # fmt: skip
    r = c.post("/vay-von/nhap-danh-sach/", form)
    assert r.status_code == 302
    page = c.get(r["Location"])
    assert page.content.count(b'data-testid="entry"') == 6 and b'data-testid="check-list"' not in page.content
    assert c.post(r["Location"], {"programme": "HN"}).status_code == 403
    assert c.get("/vay-von/quyet-dinh/").status_code == 403


def test_the_admin_publishes_rules_in_the_page(
    bank_admin: Person, logged_in: Callable[[Person], Client]
) -> None:
    c = logged_in(bank_admin)
    page = c.get("/vay-von/quy-tac/HN/")
    assert page.status_code == 200 and b'data-testid="publish"' in page.content
    bad = c.post("/vay-von/quy-tac/HN/", {"rules": "[1]", "note": "x"})
    assert bad.status_code == 400 and b"rules[0]" in bad.content


def test_a_death_or_a_move_turns_the_answer_on_recheck(
    bank_officer: Person,
    registrar: Person,
    tay_ho_list: services.ListView,
    households: dict[str, CitizenView],
) -> None:
    from datetime import date

    from django.core.management import call_command

    from dancu.blocks.registry.services import record_death

    assert services.decide(bank_officer.actor, "HN", "001085012345").eligible
    assert services.decide(bank_officer.actor, "HN", "001188012347").eligible
    assert services.recheck(bank_officer.actor) == []  # nothing changed
    record_death(registrar.ctx("registry.administration"), "001188012347", date_of_death=date(2026, 11, 1),
                 reason="Khai tử", legal_basis="Luật Hộ tịch 2014")  # fmt: skip
    out = io.StringIO()
    call_command("social_loans_recheck", user="canbo.nhcsxh", stdout=out)
    text = out.getvalue()
    assert "DECEASED" in text and "001188012347" not in text and "1 decision(s)" in text
    with pytest.raises(AccessDenied):
        services.recheck(registrar.actor)


def test_the_banks_system_asks_through_the_api_with_its_key(
    bank_officer: Person, tay_ho_list: services.ListView, households: dict[str, CitizenView], client: Client,
    hotel_clerk: Person,
) -> None:  # fmt: skip
    from dancu.blocks.organisations.models import Organisation
    from dancu.blocks.organisations.services import issue_api_key

    key = issue_api_key(Organisation.objects.get(code="NHCSXH-HN"), "Hệ thống tín dụng").token
    url = "/api/v1/social-loans/eligibility"
    r = client.post(url, {"id_number": "001060012348", "programme": "HN"}, content_type="application/json",
                    headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["eligible"] is False and {x["reason"] for x in body["reasons"] if x["result"] == "fail"} == {
        "DECEASED"
    }
    # no household data; the lender that asked is named
    assert set(body) == {"decision", "programme", "rule_version", "eligible", "recipient", "reasons"}
    assert body["recipient"] == Organisation.objects.get(code="NHCSXH-HN").name
    bad = client.post(url, {"id_number": "00108501234X", "programme": "HN"}, content_type="application/json",
                      headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "id_number"
    assert (
        client.post(
            url, {"id_number": "001085012345", "programme": "HN"}, content_type="application/json"
        ).status_code
        == 401
    )
    hotel = issue_api_key(Organisation.objects.get(code="KS-HOABINH"), "PMS").token
    ask = {"id_number": "001085012345", "programme": "HN"}
    denied = client.post(
        url, ask, content_type="application/json", headers={"Authorization": f"Bearer {hotel}"}
    )
    assert denied.status_code == 403
