"""What every ModelAdmin of the registry is built from (DESIGN §7): scoping by
country (accounts.scope decides who may see and change what), forms whose
submission is one service call, and state changes by admin actions only.

Every change goes through a service of its app (identity.services,
recognition.services.agreements): add and change forms are `ServiceForm`s
whose submission is one service call, and status changes are admin actions.
"""

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django_countries import countries
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin_actions import ConfirmedActionsMixin, proposal_url, proposed_message
from accounts.admin_actions import manage_action as manage_action  # the actions of every app import it from here
from accounts.admin_proposals import pending_proposals_notice
from accounts.admin_rows import OwnRowsMixin, with_ownership
from accounts.models import Proposal
from accounts.scope import Scope, country_code, scope_of
from core.changes import integrity_error_message


class ServiceForm(forms.ModelForm):
    """A form whose submission is one service call.

    The service runs once every field is valid, and its refusal (a
    ValidationError) becomes a form error instead of a 500. The admin's change
    view runs in a transaction and each service in its own savepoint, so a
    refused call leaves nothing behind. The admin binds `acting_user` and
    `scope` to the form class of each request.
    """

    acting_user: Any = None
    scope: Scope = Scope(role=None)

    def submit(self) -> models.Model:
        raise NotImplementedError

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self.errors:
            return
        try:
            self.result = self.submit()
        except ValidationError as exc:
            self.add_error(None, exc.messages)
        except IntegrityError as exc:
            self.add_error(None, integrity_error_message(exc))

    def submitted(self, name: str) -> Any:
        """The cleaned value of `name`; an instant the form showed to the
        second and got back unchanged keeps its stored microseconds, so that
        saving an untouched form is not a change of trust."""
        value, initial = self.cleaned_data.get(name), self.initial.get(name)
        if isinstance(value, datetime) and isinstance(initial, datetime) and value == initial.replace(microsecond=0):
            return initial
        return value

    def require_owned(self, country: object) -> None:
        # Second line of defence: the choices offered are already scoped.
        if not self.scope.owns(country):
            raise ValidationError(f"{country_code(country)} is not a country you administer")


class ServiceFormAdminMixin:
    """Add and change forms that are `ServiceForm`s: the admin saves nothing
    itself."""

    add_form: type[ServiceForm] | None = None
    add_fieldsets: Any = None

    def get_fieldsets(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        if obj is None and self.add_fieldsets is not None:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    def get_form(
        self, request: HttpRequest, obj: models.Model | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        if obj is None and self.add_form is not None:
            kwargs["form"] = self.add_form
        form = super().get_form(request, obj, change=change, **kwargs)
        # modelform_factory made a new class for this request: binding is safe.
        form.acting_user = request.user
        form.scope = scope_of(request.user)
        return form

    def save_form(self, request: HttpRequest, form: forms.ModelForm, change: bool) -> models.Model:
        if not isinstance(form, ServiceForm):
            # Fail closed: no row of the registry is saved outside a service.
            raise PermissionDenied
        return form.result

    def save_model(self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool) -> None:
        """The service already saved it, with history, in `ServiceForm.submit`."""

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        """The service already set the relations."""

    # A country administrator's widening of trust is a proposal, not the row:
    # the user is told so on the proposal's page, and the admin's own log
    # records nothing (the proposal's history holds it).

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        return None if isinstance(obj, Proposal) else super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        return None if isinstance(obj, Proposal) else super().log_change(request, obj, message)

    def response_add(self, request: HttpRequest, obj: models.Model, post_url_continue: str | None = None) -> Any:
        if isinstance(obj, Proposal):
            return self._proposed(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: models.Model) -> Any:
        if isinstance(obj, Proposal):
            return self._proposed(request, obj)
        return super().response_change(request, obj)

    def _proposed(self, request: HttpRequest, proposal: Proposal) -> HttpResponseRedirect:
        messages.warning(request, proposed_message(proposal))
        return HttpResponseRedirect(proposal_url(proposal))


class CountryScopedAdmin(ConfirmedActionsMixin, OwnRowsMixin, ServiceFormAdminMixin, SimpleHistoryAdmin):
    """Scoping by country, own and foreign rows told apart, service-backed
    forms, state changes by confirmed actions only (accounts.admin_actions),
    read-only history, and no deletion."""

    country_lookup: str = ""  # ORM path from the model to the country owning a row
    country_field: str = ""  # the form field a country administrator may only set to their country
    foreign_read_only: bool = False  # country administrators view other countries' rows
    service_target: str = ""  # the keyword under which the state services take the row

    # Permissions ------------------------------------------------------------

    def scope(self, request: HttpRequest) -> Scope:
        return scope_of(request.user)

    def owner_country(self, obj: models.Model) -> str:
        value: Any = obj
        for part in self.country_lookup.split("__"):
            value = getattr(value, part)
        return country_code(value)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = super().get_queryset(request)
        scope = self.scope(request)
        if scope.reads_everything:
            return queryset
        if scope.country and self.foreign_read_only:
            return with_ownership(queryset, scope, self.country_lookup)
        if scope.country:
            return queryset.filter(**{self.country_lookup: scope.country})
        return queryset.none()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.scope(request).role is not None

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        scope = self.scope(request)
        if scope.reads_everything:
            return True
        if not scope.country:
            return False
        return obj is None or scope.owns(self.owner_country(obj)) or self.readable(scope, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.add_form is not None and self.scope(request).writes

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.can_manage(request, obj) and self.editable(obj)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        # DESIGN §3: keys are never deleted, agreements are terminated; the
        # other rows are referenced by history and the audit log.
        return False

    def has_manage_permission(self, request: HttpRequest) -> bool:
        """Whether the state-changing actions are offered (`permissions=["manage"]`)."""
        return self.scope(request).writes

    def can_manage(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        scope = self.scope(request)
        return scope.writes and (obj is None or scope.owns(self.owner_country(obj)))

    def editable(self, obj: models.Model | None) -> bool:
        """Whether the change form edits anything; most rows change by actions only."""
        return False

    def get_fieldsets(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        """The form's "Reason for this change", where the user may submit it."""
        fieldsets = super().get_fieldsets(request, obj)
        form = self.add_form if obj is None and self.add_form is not None else self.form
        if "reason" not in getattr(form, "declared_fields", {}) or getattr(request, "showing_history_version", False):
            return fieldsets
        writable = self.has_add_permission(request) if obj is None else self.has_change_permission(request, obj)
        return (*fieldsets, (None, {"fields": ("reason",)})) if writable else fieldsets

    # Choices offered in forms ----------------------------------------------

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs: Any) -> forms.Field | None:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        country = self.scope(request).country
        if formfield is not None and country and db_field.name == self.country_field:
            formfield.choices = [(country, countries.name(country))]
            formfield.initial = country
        return formfield

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if db_field.name == "authority":
            kwargs["queryset"] = self.authority_choices(request, db_field.remote_field.model.objects.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def authority_choices(self, request: HttpRequest, authorities: models.QuerySet) -> models.QuerySet:
        """Authorities a row may be attached to: the user's own."""
        scope = self.scope(request)
        if scope.is_superuser:
            return authorities
        if scope.country:
            return authorities.filter(country=scope.country)
        return authorities.none()

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        if request.method == "GET":
            pending_proposals_notice(request, self.model, unquote(object_id))
        return super().change_view(request, object_id, form_url, extra_context)

    # History ---------------------------------------------------------------

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> HttpResponse:
        self._require_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        # A revert would save an old version directly, bypassing the services.
        if request.method != "GET":
            raise PermissionDenied
        obj = self._require_visible(request, object_id)
        history = getattr(self.model, self.model._meta.simple_history_manager_attribute)
        try:
            exists = history.filter(**{self.model._meta.pk.attname: obj.pk, "history_id": version_id}).exists()
        except (ValueError, ValidationError):
            exists = False  # not even an id: simple-history would answer 500
        if not exists:
            raise Http404
        request.showing_history_version = True
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        if getattr(request, "showing_history_version", False):
            # An old version is shown, never offered for editing.
            return flatten_fieldsets(self.fieldsets) if self.fieldsets else tuple(self.fields or ())
        return super().get_readonly_fields(request, obj)

    def revert_disabled(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return True

    def _require_visible(self, request: HttpRequest, object_id: str) -> models.Model:
        # The history of a row out of scope is as absent as the row itself. A
        # foreign row that opens read-only beyond the list (`readable_queryset`)
        # shows no history either: who changed it is its country's business.
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        if not self.get_queryset(request).filter(pk=obj.pk).exists():
            raise Http404
        return obj

    # Actions ---------------------------------------------------------------

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class SuperuserOnly:
    """An admin only an active superuser sees or uses."""

    def _is_superuser(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_superuser(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_superuser(request)
