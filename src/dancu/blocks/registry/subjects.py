"""The citizens an application's access concerned, named by their 12-digit numbers, put on their
access history (Law 91/2025/QH15 Art. 4 and Decree 356/2025/NĐ-CP: the data subject's right to
know who processed their data and for what; ADR 0002).

Applications keep ID numbers in their own rows (a commune list, a sector registry) and never hold
the registry's internal keys; this function resolves the numbers (current or previous, as
``IdNumberChange`` keeps them) and writes one audit event per citizen through the audit block. It
returns only how many were recorded: it tells the caller nothing about who is in the registry.
"""

from __future__ import annotations

from collections.abc import Iterable

from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry.models import Citizen, IdNumberChange


def record_access(
    ctx: AccessContext,
    action: str,
    id_numbers: Iterable[str],
    *,
    detail: dict[str, object] | None = None,
    result: str = AuditEvent.Result.OK,
    durable: bool = True,
) -> int:
    """One event ``action`` per citizen holding (or having held) one of ``id_numbers``; numbers
    the registry does not know are skipped. Call it in the transaction of the access it records
    (``durable=False`` for reads, as ``audit.record``)."""
    numbers = sorted({n for n in id_numbers if n})
    if not numbers:
        return 0
    ids = set(Citizen.objects.filter(id_number__in=numbers).values_list("pk", flat=True))
    ids |= set(IdNumberChange.objects.filter(old_number__in=numbers).values_list("citizen_id", flat=True))
    return audit.record_many(ctx, action, sorted(ids), result=result, detail=detail, durable=durable)
