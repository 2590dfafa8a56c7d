"""Pages of sector digitisation (``/so-hoa/``): an organisation's administrator defines a sector
registry (its schema as JSON); its officers enter records starting from the person's ID number,
name and date of birth (verified against the population registry through the gateway) and the
sector fields the schema defines. Thin views over ``services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from dancu.apps.sector import services
from dancu.apps.web.staff import form_problems, problems_of, shown, staff_view
from dancu.blocks.audit.context import Actor
from dancu.errors import AccessDenied, Conflict, DomainValidationError, FieldProblem, NotFound
from dancu.validation import loads_json

_ERRORS = (DomainValidationError, AccessDenied, NotFound)

sector_actor = staff_view(
    may_act=lambda a: a.organisation_id is not None and a.role in ("admin", "officer"),
    no_organisation=lambda request: render(request, "sector/not_authorised.html", status=403),
    not_authorised="sector/not_authorised.html",
    membership_ended=lambda request: request.get_full_path(),
)


class RegistryForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40)
    version = forms.CharField(label=_("Version"), max_length=10, initial="1.0")
    name_vi = forms.CharField(label=_("Name (Vietnamese)"), max_length=255)
    name_en = forms.CharField(label=_("Name (English)"), max_length=255)
    schema = forms.CharField(label=_("Schema (JSON)"), widget=forms.Textarea(attrs={"rows": 10, "cols": 90}))


def entry_form(reg: Any, data: Any = None) -> forms.Form:
    """The data-entry form of a registry: the person first, then the schema's fields."""
    form = forms.Form(data)
    form.fields["ID"] = forms.CharField(label=_("ID number"), max_length=12, min_length=12)
    form.fields["FullName"] = forms.CharField(label=_("Full name"), max_length=255)
    form.fields["BirthDate"] = forms.DateField(
        label=_("Date of birth (dd/mm/yyyy)"), input_formats=["%d/%m/%Y", "%Y-%m-%d"]
    )
    for f in reg.schema:
        label, required = f["label_vi"], bool(f.get("required"))
        if f["type"] == "choice":
            form.fields[f["name"]] = forms.ChoiceField(
                label=label, required=required, choices=[("", "—")] + [(c, c) for c in f["choices"]]
            )
        elif f["type"] == "integer":
            form.fields[f["name"]] = forms.IntegerField(label=label, required=required)
        elif f["type"] == "boolean":
            form.fields[f["name"]] = forms.BooleanField(label=label, required=False)
        elif f["type"] == "date":
            form.fields[f["name"]] = forms.DateField(
                label=label, required=required, input_formats=["%d/%m/%Y", "%Y-%m-%d"]
            )
        else:
            form.fields[f["name"]] = forms.CharField(label=label, required=required, max_length=500)
    return form


@sector_actor
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = RegistryForm(request.POST or None)
    problems: list[FieldProblem] = []
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            problems, status = form_problems(form, non_field="schema"), 400
        else:
            d = form.cleaned_data
            try:
                schema = loads_json(d["schema"])
                reg = services.define_registry(
                    actor,
                    code=d["code"],
                    version=d["version"],
                    name_vi=d["name_vi"],
                    name_en=d["name_en"],
                    schema=schema,
                )
                return HttpResponseRedirect(reverse("sector:registry", args=[reg.code, reg.version]))
            except ValueError:
                problems, status = [FieldProblem("schema", "json", "not JSON")], 400
            except Conflict as exc:
                problems, status = [FieldProblem(exc.field, exc.rule, str(exc))], 409
            except _ERRORS as exc:
                problems, status = problems_of(exc)
    context = {
        "registries": services.registries_of(actor),
        "form": form,
        "is_admin": actor.role == "admin",
        "problems": shown(problems),
    }
    return render(request, "sector/index.html", context, status=status)


@sector_actor
@require_http_methods(["GET", "POST"])
def registry(request: HttpRequest, actor: Actor, code: str, version: str) -> HttpResponse:
    try:
        reg = services.registry_for(actor, code, version, "sector.list")
        _, rows = services.search(actor, code, version, text=request.GET.get("q", "")[:100], page_size=100)
    except _ERRORS as exc:
        return render(
            request, "sector/error.html", {"problems": shown(problems_of(exc)[0])}, status=problems_of(exc)[1]
        )
    form = entry_form(reg, request.POST or None)
    problems: list[FieldProblem] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            content = {
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in form.cleaned_data.items()
                if v not in (None, "")
            }
            try:
                services.create(actor, code, version, content)
                return HttpResponseRedirect(reverse("sector:registry", args=[code, version]))
            except Conflict as exc:
                problems, status = [FieldProblem(exc.field, exc.rule, str(exc))], 409
            except _ERRORS as exc:
                problems, status = problems_of(exc)
        else:
            problems, status = form_problems(form, non_field="ID"), 400
    context = {"reg": reg, "rows": rows, "form": form, "problems": shown(problems)}
    return render(request, "sector/registry.html", context, status=status)
