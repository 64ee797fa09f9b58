"""`GET /recognition/matrix/`: the recognition matrix as a server-rendered
page for staff (DESIGN §7 `recognition/`), with a date picker for any past instant.

Who: staff users with a role (the superuser, regulators, country
administrators); the data is public through the API anyway, so a country
administrator may look at the whole picture too. Anonymous and non-staff users
are sent to the admin login; a staff user without a role gets 403, as in the
admin.

The page loads nothing from elsewhere: inline CSS, no script, no image; a
Content-Security-Policy header says so to the browser.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe
from django_countries import countries

from accounts.scope import role_of
from core.instants import iso, parse_instant
from recognition.services.matrix import AuthorityEntry, Cell, CellState, recognition_matrix

CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

LEGEND = (
    (CellState.RECOGNIZED, "✓", "every active authority of the origin recognized, all for the same credential types"),
    (
        CellState.CANNOT_SUCCEED,
        "⊘",
        "some active authority recognized, but every recognized one only under agreements that cannot succeed: "
        "in practice a minimum assurance above what the authority is accredited to issue, so every credential is "
        "rejected (GET recognition/ and TRQP still answer recognized: the terms hold)",
    ),
    (
        CellState.PARTLY_RECOGNIZED,
        "◐",
        "some active authority recognized and able to succeed, but not every one, or not all for the same "
        "credential types",
    ),
    (
        CellState.SUSPENDED,
        "‖",  # U+2016: present in the common fonts, unlike U+23F8
        "none recognized, but one would be were it not for a suspension (of the agreement, inside its validity "
        "window, or of the authority while its agreement is in force)",
    ),
    (
        CellState.NONE,
        "·",
        "no agreement, or only drafts, terminated agreements, agreements outside their validity window, "
        "revoked authorities, or authorities with no usable key",
    ),
    (CellState.DOMESTIC, "■", "the country's own authorities: trusted while active, no agreement needed"),
)
SYMBOLS = {state: symbol for state, symbol, _ in LEGEND}


@dataclass(frozen=True)
class CellView:
    destination: str
    origin: str
    state: str
    label: str
    symbol: str
    reciprocal: bool
    types: str
    title: str


def _agreement_line(entry: AuthorityEntry, at: datetime) -> str:
    if not entry.agreements:
        return "no agreement"
    parts = []
    for a in entry.agreements:
        force = "in force" if a.in_force(at) else "not in force"
        until = iso(a.valid_until) if a.valid_until else "open-ended"
        parts.append(
            f"#{a.id} {a.status}, {force} (valid {iso(a.valid_from)} to {until}), "
            f"{', '.join(sorted(a.credential_types))} from {a.min_assurance}"
        )
    return "; ".join(parts)


def cell_title(cell: Cell, at: datetime) -> str:
    """The tooltip: the pair, its state, then one line per authority of the
    origin with its agreements."""
    head = f"{cell.destination} ← {cell.origin}: {CellState(cell.state).label}"
    if cell.reciprocal:
        head += " (reciprocal)"
    lines = [head]
    for entry in cell.authorities:
        authority = entry.authority
        verdict = "recognized" if entry.recognized else "not recognized"
        if not entry.has_usable_key:
            verdict += " (no usable key)"
        if cell.state == CellState.DOMESTIC:
            lines.append(f"{authority.name} ({authority.issuer}), {authority.status}: {verdict} (domestic)")
            continue
        types = f" for {', '.join(entry.credential_types)}" if entry.credential_types else ""
        problems = "".join(f"; cannot succeed: {problem.detail}" for problem in entry.problems)
        lines.append(
            f"{authority.name} ({authority.issuer}), {authority.status}: {verdict}{types}; "
            f"agreements: {_agreement_line(entry, at)}{problems}"
        )
    return "\n".join(lines)


def _cell_view(cell: Cell, at: datetime) -> CellView:
    return CellView(
        destination=cell.destination,
        origin=cell.origin,
        state=cell.state,
        label=CellState(cell.state).label,
        symbol=SYMBOLS[cell.state],
        reciprocal=cell.reciprocal,
        types=", ".join(cell.credential_types),
        title=cell_title(cell, at),
    )


def _instant(request: HttpRequest) -> tuple[datetime, str]:
    """The instant asked for and an error message, if any. An empty `at` is
    now: the date picker cleared sends `?at=`."""
    raw = request.GET.get("at", "")
    if raw == "":
        return timezone.now(), ""
    try:
        return parse_instant(raw, allow_date=True), ""
    except ValueError as exc:
        return timezone.now(), f"Cannot show the matrix at that date: {exc}."


@require_safe
@staff_member_required
def matrix_page(request: HttpRequest) -> HttpResponse:
    if role_of(request.user) is None:
        raise PermissionDenied
    at, error = _instant(request)
    context = {
        "title": "Recognition matrix",
        "error": error,
        "raw_at": request.GET.get("at", "")[:64],
        "legend": [(state.value, state.label, symbol, text) for state, symbol, text in LEGEND],
    }
    if not error:
        matrix = recognition_matrix(at=at)
        context.update(
            at=iso(at),
            at_date=at.date().isoformat(),
            origins=[(code, countries.name(code)) for code in matrix.countries],
            rows=[
                (code, countries.name(code), [_cell_view(cell, matrix.at) for cell in cells])
                for code, cells in matrix.rows()
            ],
        )
    response = render(request, "recognition/matrix.html", context, status=400 if error else 200)
    response["Content-Security-Policy"] = CSP
    return response
