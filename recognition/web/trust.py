"""`GET /recognition/trust/<country>/`: one country's trust list as a page of
the admin console (recognition/services/country_trust.py): the foreign
authorities it recognizes with their keys, the agreements of other countries
that recognize its own authorities, and its own authorities.

Who: staff with a role. A country administrator opens their own country by
default (`/recognition/trust/`) and may read any other (agreements and
authorities are public, DESIGN §7); regulators and the superuser read any
country. Drafts are shown to the country's administrators and to those who
read everything, as in the admin (DESIGN §10). Anonymous and non-staff users
are sent to the admin login; staff without a role get 403. The page changes
nothing: every change is made in the admin, to which it links.
"""

import re

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe
from django_countries import countries

from accounts.scope import Scope, scope_of
from identity.models import Authority
from recognition.models import RecognitionAgreement
from recognition.services.country_trust import country_trust

_CODE = re.compile(r"[A-Za-z]{2}", re.ASCII)


def _scope(request: HttpRequest) -> Scope:
    scope = scope_of(request.user)
    if scope.role is None:
        raise PermissionDenied("The trust lists are for country administrators, regulators and the superuser.")
    return scope


def _known_countries() -> list[tuple[str, str]]:
    """The countries the registry has authorities or agreements of, for the chooser."""
    codes = {str(code) for code in Authority.objects.values_list("country", flat=True).distinct()}
    codes |= {str(code) for code in RecognitionAgreement.objects.values_list("destination", flat=True).distinct()}
    return sorted((code, countries.name(code)) for code in codes)


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {**admin.site.each_context(request), **context}, status=status)


def _unknown(request: HttpRequest, raw: str) -> HttpResponse:
    shown = raw[:20]
    context = {
        "title": "No such country",
        "error": f"“{shown}” is not a country code: give an ISO 3166-1 alpha-2 code, such as CN or CL.",
        "choices": _known_countries(),
    }
    return _page(request, "recognition/trust_index.html", context, status=404)


@require_safe
@staff_member_required
def trust_index(request: HttpRequest) -> HttpResponse:
    """A country administrator's own trust list; `?country=` (the chooser's
    form) opens any; otherwise the chooser."""
    scope = _scope(request)
    raw = request.GET.get("country", "").strip() or scope.country
    if raw:
        if not _CODE.fullmatch(raw):
            return _unknown(request, raw)
        return redirect("recognition-trust-list", country=raw.upper())
    return _page(request, "recognition/trust_index.html", {"title": "Trust lists", "choices": _known_countries()})


@require_safe
@staff_member_required
def trust_list_page(request: HttpRequest, country: str) -> HttpResponse:
    scope = _scope(request)
    code = country.upper()
    if not _CODE.fullmatch(country) or code not in countries:
        return _unknown(request, country)
    if code != country:
        return redirect("recognition-trust-list", country=code)
    own = scope.country == code
    at = timezone.now()
    trust = country_trust(code, at=at, with_drafts=own or scope.reads_everything)
    name = countries.name(code)
    context = {
        "title": f"Our trust list: {name} ({code})" if own else f"Trust list of {name} ({code})",
        "country": code,
        "country_name": name,
        "own": own,
        "read_only": not scope.owns(code),
        "at": at,
        "trust": trust,
        "choices": _known_countries(),
    }
    return _page(request, "recognition/trust_list.html", context)
