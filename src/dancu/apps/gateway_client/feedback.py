"""Cleaning results fed back to the agency that owns the file, through the data-exchange gateway
(issue 8, "cleaning results can be fed back to the owning agency through the gateway"; ADR 0010,
ADR 0012).

The platform publishes an in-process provider service ``cleaning-results`` (subsystem ``LAMSACH``
of the registry's member). The owning agency's information system — a land register, a
commune-list system — calls ``…/LAMSACH/cleaning-results/{job reference}`` with its credential,
purpose ``data.cleaning``, under a grant naming the fields it takes; the answer is the job's rows
as results only (row number, result, the 12-digit ID number, method, match weight, proposed
corrections with their provenance, flags) — not the names and addresses the agency already holds.
The gateway signs both documents and writes the exchange to its message log; the linkage block
checks that the job is the calling agency's own (``linkage.services.export``, another's is "not
found") and records its export event.

The handler is registered in the gateway's table of in-process providers when this application
starts (``apps.py``) and the service published through the exchange block's own functions
(``register_handler``, ``publish_in_process_service``): the block never imports an application.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dancu.apps.gateway_client import client
from dancu.apps.gateway_client.cleaned import cleaned_rows
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.exchange import providers
from dancu.blocks.exchange import services as ex
from dancu.blocks.exchange.models import Service, Subsystem
from dancu.blocks.linkage import services as linkage
from dancu.errors import DomainValidationError, NotFound

HANDLER = "cleaning.results"
SERVICE_CODE = "cleaning-results"
FIELDS = ("row", "result", "id_number", "method", "match_weight", "corrections", "flags")
_COLUMNS = dict(
    zip(
        ("result", "id_number", "method", "match_weight", "corrections", "flags"),
        linkage.EXPORT_COLUMNS,
        strict=True,
    )
)


def cleaning_results(ctx: AccessContext, params: Mapping[str, Any], path: str) -> providers.Answer:
    """The results of the calling agency's own finished cleaning job ``path`` (its reference)."""
    reference = path.strip("/")
    if not reference.startswith("LS-") or len(reference) > 40:
        raise DomainValidationError.single("job", "format", "the job's reference, e.g. LS-1A2B3C4D")
    job = next((j for j in linkage.list_jobs(ctx) if j.reference == reference), None)
    if job is None:
        raise NotFound("no cleaning job with that reference", field="job")
    items = [
        {"row": n, **{k: row.get(col, "") for k, col in _COLUMNS.items()}}
        for n, row in enumerate(cleaned_rows(ctx, job.job_id), start=1)
    ]
    return providers.Answer(data={}, subjects=[], items=items)


def register_handler() -> None:
    """Add the handler to the gateway's in-process providers (called from ``AppConfig.ready``)."""
    ex.register_handler(HANDLER, cleaning_results)


def publish(actor: Actor, subsystem: Subsystem) -> Service:
    """Publish (or refresh) ``cleaning-results`` under ``subsystem`` (the platform operator only:
    ``AccessDenied`` for anyone else)."""
    return ex.publish_in_process_service(
        actor,
        subsystem,
        code=SERVICE_CODE,
        handler=HANDLER,
        title_vi="Kết quả làm sạch dữ liệu chuyên ngành",
        title_en="Cleaning results of a sector file",
        legal_basis="Quyết định 06/QĐ-TTg 2022; Nghị định 47/2020/NĐ-CP",
        fields_by_purpose={linkage.PURPOSE: list(FIELDS)},
        methods="GET",
        openapi={
            "openapi": "3.0.3",
            "info": {"title": f"{subsystem.identifier}/{SERVICE_CODE}", "version": "v1"},
            "paths": {
                "/{job_reference}": {"get": {"summary": "Cleaning results (rows, ID numbers, corrections)"}}
            },
        },
    )


def cleaning_subsystem() -> str:
    """The platform's cleaning service subsystem (the registry's member, Công an thành phố Hà Nội)."""
    return f"{ex.instance()}/GOV/CA-HN/LAMSACH"


def fetch(organisation_id: int, system: str, job_reference: str, *, end_user: str) -> client.Reply:
    """The owning agency's system takes its job's results through the gateway (signed, logged)."""
    return client.call(
        organisation_id,
        system,
        SERVICE_CODE,
        job_reference,
        purpose=linkage.PURPOSE,
        end_user=end_user,
        case_reference=job_reference,
        provider=cleaning_subsystem(),
    )
