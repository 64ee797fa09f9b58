"""Crafted admin requests for the admin tests: URLs, action POSTs, and what
the user is told (form errors, messages)."""

import html
import re
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from django.contrib.messages import get_messages
from django.db.models import Model
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from accounts.models import Proposal
from identity.jose.key_files import public_jwk_of


def admin_url(model: type[Model] | Model, view: str, *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def changelist_url(model: type[Model]) -> str:
    return admin_url(model, "changelist")


def add_url(model: type[Model]) -> str:
    return admin_url(model, "add")


def change_url(obj: Model) -> str:
    return admin_url(obj, "change", obj.pk)


def delete_url(obj: Model) -> str:
    return admin_url(obj, "delete", obj.pk)


def history_url(obj: Model) -> str:
    return admin_url(obj, "history", obj.pk)


def history_version_url(obj: Model) -> str:
    version = obj.history.filter(id=obj.pk).order_by("history_date", "history_id").last()
    return admin_url(obj, "simple_history", obj.pk, version.history_id)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_action(client: Client, model: type[Model], action: str, objs: list[Model], **extra: Any) -> HttpResponse:
    """POST an admin action on the changelist, as the action form does."""
    data = {"action": action, "index": "0", "_selected_action": [str(obj.pk) for obj in objs], **extra}
    return client.post(changelist_url(model), data, follow=True)


def confirm_action(
    client: Client,
    model: type[Model],
    action: str,
    objs: list[Model],
    reason: str = "checked by the test",
    **extra: Any,
) -> HttpResponse:
    """POST an admin action, then confirm it with a reason on its
    confirmation page, as a person does."""
    page = post_action(client, model, action, objs, **extra)
    if page.templates and page.templates[0].name == "admin/confirm_action.html":
        data = {"action": action, "_selected_action": [str(obj.pk) for obj in objs], "confirmed": "yes"}
        return client.post(page.wsgi_request.get_full_path(), {**data, "reason": reason}, follow=True)
    return page  # refused before any confirmation (no such action for this user)


def approve_in_admin(
    client: Client, proposal: Proposal | None = None, reason: str = "checked by a second administrator"
) -> Proposal:
    """Approve `proposal` (default: the latest) on its page, as a second
    administrator does; returns the proposal as it is afterwards."""
    proposal = proposal or Proposal.objects.order_by("-pk").first()
    client.post(reverse("admin:accounts_proposal_approve", args=[proposal.pk]), {"reason": reason})
    proposal.refresh_from_db()
    return proposal


def messages_of(response: HttpResponse) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def form_errors(response: HttpResponse) -> str:
    """Every error of the admin form the response re-rendered, as one text."""
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    return " ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())


def split_datetime(prefix: str, value: datetime) -> dict[str, str]:
    """The admin's split date/time widget's POST fields."""
    return {f"{prefix}_0": value.strftime("%Y-%m-%d"), f"{prefix}_1": value.strftime("%H:%M:%S")}


def new_public_jwk() -> dict[str, str]:
    return public_jwk_of(ed25519.Ed25519PrivateKey.generate())


def latest_history_user(obj: Model) -> Any:
    record = obj.history.filter(id=obj.pk).order_by("history_date", "history_id").last()
    return record.history_user


def is_read_only_page(response: HttpResponse) -> bool:
    """A change page that offers no way to save."""
    return response.status_code == 200 and b'name="_save"' not in response.content


def terms_post(agreement: Any, **extra: str) -> dict:
    """The agreement change form's POST: its current terms, then `extra`."""
    return {
        "credential_types": [t.pk for t in agreement.credential_types.all()],
        "min_assurance": agreement.min_assurance,
        **split_datetime("valid_from", agreement.valid_from),
        "valid_until_0": "",
        "valid_until_1": "",
        "legal_basis": agreement.legal_basis,
        "reference_url": agreement.reference_url,
        "notes": agreement.notes,
        "reason": "terms reviewed",
        **extra,
    }


def listed_row(response: HttpResponse, obj: Model) -> str:
    """The text of the changelist row that links to `obj`'s page, tags
    stripped and spaces collapsed ("" when the row is not listed)."""
    page = response.content.decode()
    for row in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S):
        if f'href="{change_url(obj)}' in row:
            return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())
    return ""


def row_is_selectable(response: HttpResponse, obj: Model) -> bool:
    """Whether the changelist offers `obj` for an action (its checkbox)."""
    return f'name="_selected_action" value="{obj.pk}"' in response.content.decode()
