"""Children's accounts registered before 0006 have no ``managed_until`` and would never be handed
over at 14 (ADR 0017, amendment of 01/12/2026): fill it with the 14th birthday, from the date of
birth the population registry holds (Decree 69/2024/NĐ-CP Art. 7: from 14 the holder's own
account). A managed account whose holder the registry does not know keeps NULL; the daily
``eid_hand_over`` reads the date of birth for those it meets (``family.hand_over_due``)."""

from datetime import date
from typing import Any

from django.db import migrations

OWN_ACCOUNT_AGE = 14  # family.OWN_ACCOUNT_AGE, frozen here as a migration must be


def _birthday(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February
        return date(born.year + years, 3, 1)


def fill_managed_until(apps: Any, schema_editor: Any) -> None:
    Account = apps.get_model("eid", "Account")
    Citizen = apps.get_model("registry", "Citizen")
    managed = Account.objects.filter(
        guardian__isnull=False, managed_until__isnull=True, citizen_id__isnull=False
    ).only("pk", "citizen_id")
    for account in managed.iterator():
        born = Citizen.objects.filter(pk=account.citizen_id).values_list("date_of_birth", flat=True).first()
        if born is not None:
            Account.objects.filter(pk=account.pk).update(managed_until=_birthday(born, OWN_ACCOUNT_AGE))


class Migration(migrations.Migration):
    dependencies = [
        ("eid", "0007_registration_is_claim"),
        ("registry", "0001_initial"),
    ]

    operations = [migrations.RunPython(fill_managed_until, migrations.RunPython.noop)]
