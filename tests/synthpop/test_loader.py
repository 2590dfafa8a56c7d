"""The loader: a generated population streamed into the registry as one import batch.

Runs on SQLite (executemany) and, with ``DATABASE_URL`` pointing at PostgreSQL, on PostgreSQL
(COPY); the parallel mode (one committed transaction per chunk, delete-by-batch on failure) is
PostgreSQL only.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db import connection

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry.models import Citizen, Household, IdentityCard, ImportBatch, OldIdNumber
from dancu.blocks.registry.services import get_by_id_number
from dancu.synthpop import loader
from dancu.synthpop.generator import population
from dancu.synthpop.loader import SeedError, discard_unfinished, load
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("adminunits_ready")


def _registry_is_empty() -> bool:
    return not (
        Citizen.objects.exists()
        or Household.objects.exists()
        or OldIdNumber.objects.exists()
        or IdentityCard.objects.exists()
        or ImportBatch.objects.exists()
        or AuditEvent.objects.filter(action=loader.AUDIT_ACTION).exists()
    )


def _fail_on_call(monkeypatch: pytest.MonkeyPatch, name: str, call: int) -> None:
    """Make ``loader.<name>`` raise on its ``call``-th call (a failure half-way through a load)."""
    real = getattr(loader, name)
    calls = [0]

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == call:
            raise RuntimeError("disk full (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(loader, name, failing)


def test_loads_2000_citizens_as_one_import_batch_with_one_audit_event() -> None:
    result = load(2_000, seed=5)
    expected = population(2_000, seed=5, as_of=result.as_of)
    assert result.citizens == Citizen.objects.count() == 2_000
    assert result.households == Household.objects.count() == len(expected.households.index)
    assert result.old_ids == OldIdNumber.objects.count() == len(expected.old_ids.number)
    assert result.cards == IdentityCard.objects.count() == len(expected.cards.card_number)

    batch = ImportBatch.objects.get()
    assert (batch.kind, batch.seed, batch.rows, batch.actor_label) == ("synthetic", 5, 2_000, "dancu seed")
    assert batch.legal_basis and batch.finished_at is not None and "test data" in batch.note
    assert set(Citizen.objects.values_list("created_batch", flat=True)) == {batch.pk}
    assert set(Household.objects.values_list("created_batch", flat=True)) == {batch.pk}

    event = AuditEvent.objects.get(action=loader.AUDIT_ACTION)
    assert event.purpose == "system.import" and event.actor_label == "dancu seed"
    assert event.detail["batch_id"] == batch.pk and event.detail["citizens"] == 2_000
    assert AuditEvent.objects.count() == 1, "one audit event for the whole batch, none per citizen"


def test_stored_rows_are_the_generated_people() -> None:
    result = load(2_000, seed=5)
    expected = population(2_000, seed=5, as_of=result.as_of)
    stored = {c.id_number: c for c in Citizen.objects.select_related("household")}
    for i in (0, 1, 2, 999, 1_999):
        c = stored[expected.citizens.id_number[i]]
        assert c.full_name == expected.citizens.full_name[i]
        assert c.permanent_address_text == expected.citizens.permanent_address_text[i]
        assert c.household is not None and c.household.address_text == c.permanent_address_text
        assert c.relationship_to_head == expected.citizens.relationship[i]


def test_family_links_point_into_the_same_household() -> None:
    load(2_000, seed=6)
    by_id = {c.pk: c for c in Citizen.objects.all()}
    links = 0
    for c in by_id.values():
        for other in (c.father_id, c.mother_id, c.spouse_id):
            if other is not None:
                assert by_id[other].household_id == c.household_id
                links += 1
        if c.spouse_id is not None:
            assert by_id[c.spouse_id].spouse_id == c.pk
    assert links > 1_000
    head_rows = Citizen.objects.filter(relationship_to_head="head")
    heads = Counter(head_rows.values_list("household_id", flat=True))
    assert set(heads.values()) == {1} and len(heads) == Household.objects.count()


def test_the_registry_finds_a_loaded_citizen_by_id_number(city_police: Person) -> None:
    load(2_000, seed=7)
    someone = Citizen.objects.order_by("id")[500]
    view = get_by_id_number(city_police.ctx("registry.lookup"), someone.id_number)
    assert view.citizen_id == someone.pk
    assert view.full_name == someone.full_name
    assert view.household_number == someone.household.household_number  # type: ignore[union-attr]
    assert view.cards is not None and view.old_id_numbers is not None


def test_ids_and_sequences_continue_after_the_load() -> None:
    load(2_000, seed=8)
    last = Citizen.objects.order_by("-id").values_list("id", flat=True).first()
    household = Household.objects.create(household_number="HK-MANUAL-1", address_text="Số 1")
    assert household.pk > Household.objects.exclude(pk=household.pk).order_by("-id")[0].pk
    assert last == Citizen.objects.order_by("id").values_list("id", flat=True)[1_999]


def test_a_failed_load_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """One transaction: a failure after some chunks were stored rolls all of them back."""
    name = "_pg_copy" if connection.vendor == "postgresql" else "_executemany"
    _fail_on_call(monkeypatch, name, call=2)
    with pytest.raises(RuntimeError, match="simulated"):
        load(25_000, seed=9, chunk=10_000, workers=1)
    assert _registry_is_empty()


def test_seeding_a_non_empty_registry_is_refused_without_append() -> None:
    load(1_000, seed=1)
    with pytest.raises(SeedError) as err:
        load(1_000, seed=2)
    assert err.value.option == "append" and "--append" in str(err.value)
    assert Citizen.objects.count() == 1_000 and ImportBatch.objects.count() == 1


def test_append_adds_a_population_whose_numbers_never_collide() -> None:
    """Even the same seed again: every stored ID, CMND and household number is reserved."""
    load(2_000, seed=1)
    second = load(2_000, seed=1, append=True)
    assert Citizen.objects.count() == 4_000
    assert Citizen.objects.values("id_number").distinct().count() == 4_000
    assert Household.objects.values("household_number").distinct().count() == Household.objects.count()
    numbers = list(OldIdNumber.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))
    assert Citizen.objects.filter(created_batch_id=second.batch_id).count() == 2_000
    assert AuditEvent.objects.filter(action=loader.AUDIT_ACTION).count() == 2


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [
        ({"n": 0}, "citizens"),
        ({"n": -3}, "citizens"),
        ({"n": 10, "seed": -1}, "seed"),
        ({"n": 10, "province": "99"}, "province"),
        ({"n": 10, "workers": 0}, "workers"),
    ],
)
def test_bad_options_name_the_option_and_store_nothing(kwargs: dict[str, Any], option: str) -> None:
    n = kwargs.pop("n")
    with pytest.raises(SeedError) as err:
        load(n, **kwargs)
    assert err.value.option == option
    assert _registry_is_empty()


# --------------------------------------------------------------------------- PostgreSQL, parallel
ON_POSTGRESQL = connection.vendor == "postgresql"


@pytest.mark.django_db(transaction=True)
def test_a_parallel_load_commits_every_chunk_and_closes_the_batch() -> None:
    """PostgreSQL: two sessions COPY in parallel. SQLite has one writer: the load runs in one session."""
    n = 30_000 if ON_POSTGRESQL else 3_000
    result = load(n, seed=3, chunk=n // 3, workers=2)
    assert (result.workers, result.pipelined) == ((2, True) if ON_POSTGRESQL else (1, False))
    assert Citizen.objects.count() == n
    batch = ImportBatch.objects.get()
    assert batch.finished_at is not None and batch.rows == n
    assert AuditEvent.objects.filter(action=loader.AUDIT_ACTION).count() == 1
    assert (result.producer_peak_rss_kib is not None) == ON_POSTGRESQL


@pytest.mark.django_db(transaction=True)
def test_a_failed_load_leaves_nothing_behind_whatever_the_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parallel chunks already committed are deleted with the batch when a later chunk fails; a
    single-session load (SQLite) rolls back as one transaction."""
    _fail_on_call(monkeypatch, "_pg_copy" if ON_POSTGRESQL else "_finish", call=3 if ON_POSTGRESQL else 1)
    n = 50_000 if ON_POSTGRESQL else 5_000
    with pytest.raises(RuntimeError, match="simulated"):
        load(n, seed=3, chunk=n // 5, workers=2)
    assert _registry_is_empty()


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_batch_must_be_discarded_before_seeding_again() -> None:
    """A crashed parallel load leaves an unfinished batch: seeding refuses until it is discarded."""
    result = load(2_000, seed=4, workers=1)
    ImportBatch.objects.filter(pk=result.batch_id).update(finished_at=None)  # as if it crashed
    with pytest.raises(SeedError) as err:
        load(1_000, seed=5, append=True)
    assert err.value.option == "discard_unfinished"
    assert discard_unfinished() == [result.batch_id]
    assert Citizen.objects.count() == 0 and ImportBatch.objects.count() == 0
    load(1_000, seed=5)
    assert Citizen.objects.count() == 1_000


def test_parallel_sessions_are_refused_inside_an_open_transaction() -> None:
    """The parallel sessions commit chunk by chunk: they cannot join the caller's transaction
    (PostgreSQL refuses the request; SQLite, with one writer, loads inside the transaction)."""
    if ON_POSTGRESQL:
        with pytest.raises(SeedError) as err:
            load(1_000, seed=1, workers=2)
        assert err.value.option == "workers"
        assert _registry_is_empty()
    else:
        assert load(1_000, seed=1, workers=2).workers == 1
        assert Citizen.objects.count() == 1_000


def _self_link_indexes() -> set[str]:
    """The indexes of the citizen table that cover the father/mother/spouse links."""
    with connection.cursor() as cur:
        constraints = connection.introspection.get_constraints(cur, Citizen._meta.db_table)
    return {
        name
        for name, c in constraints.items()
        if c["index"] and c["columns"] and c["columns"][0] in loader.SELF_LINKS
    }


@pytest.mark.django_db(transaction=True)
def test_the_self_links_are_indexed_on_sqlite_only_and_a_discard_leaves_no_probe_behind() -> None:
    """SQLite checks a deferred self-reference at every citizen inserted while a violation is
    pending (children before parents in a chunk): without an index each check scanned the table and
    the demo's 20,000 citizens took over ten minutes (registry/0005). PostgreSQL keeps no such index
    (every COPY would maintain it); discarding a batch builds probes for its own transaction only."""
    expected = set() if ON_POSTGRESQL else {f"citizen_{c}_link" for c in loader.SELF_LINKS}
    result = load(3_000, seed=5, workers=1)
    assert Citizen.objects.filter(father__isnull=False).exists()  # the links are there to check
    assert _self_link_indexes() == expected
    ImportBatch.objects.filter(pk=result.batch_id).update(finished_at=None)
    assert discard_unfinished() == [result.batch_id]
    assert not Citizen.objects.exists() and not ImportBatch.objects.exists()
    assert _self_link_indexes() == expected
