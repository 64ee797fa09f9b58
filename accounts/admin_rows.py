"""Own and foreign rows in the registry's admin (DESIGN §7): a country
administrator sees which rows are theirs, cannot select the others for an
action, and is told whose a row is instead of Django's "doesn't exist.
Perhaps it was deleted?" (nothing is ever deleted here)."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, Model, QuerySet, Value, When
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from accounts.admin_display import country_label
from accounts.scope import Scope

OWNED = "is_yours"  # the annotation each row of a country administrator's list carries


def with_ownership(queryset: QuerySet, scope: Scope, country_lookup: str) -> QuerySet:
    """Mark each row (OWNED) whether the country administrator owns it; the
    rows of other roles carry no mark (the superuser owns all, a regulator
    changes nothing, and neither needs the column)."""
    if scope.is_superuser or not scope.country:
        return queryset
    owned = Case(
        When(**{country_lookup: scope.country}, then=Value(True)), default=Value(False), output_field=BooleanField()
    )
    return queryset.annotate(**{OWNED: owned})


def is_foreign_row(obj: Any) -> bool:
    return getattr(obj, OWNED, True) is False


class HonestRefusalsMixin:
    """A row out of the user's sight is named with its owner; a row that is
    not there never existed (nothing is deleted)."""

    def describe_out_of_scope(self, obj: Model) -> str:
        """Whose the row is, for a user who may not see it."""
        return "it is not among the rows you may see"

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str) -> HttpResponseRedirect:
        key = unquote(object_id)
        name = str(opts.verbose_name)
        try:
            obj = self.model._default_manager.filter(pk=key).first()
        except (ValueError, ValidationError):
            obj = None  # not even an id
        if obj is None:
            text = f"There is no {name} with ID “{key}”: nothing is ever deleted in this registry, so it never existed."
        else:
            text = f"{name.capitalize()} #{obj.pk}: {self.describe_out_of_scope(obj)}."
        self.message_user(request, text, messages.WARNING)
        if self.has_view_permission(request):
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        return HttpResponseRedirect(reverse("admin:index"))


class OwnRowsMixin(HonestRefusalsMixin):
    """For a CountryScopedAdmin: a column saying yours / foreign, no action
    checkbox on foreign rows, a read-only page that says whose it is, and
    foreign rows a country administrator may read (`readable`) opened
    read-only."""

    def owner_phrase(self, obj: Model) -> str:
        return f"belongs to {country_label(self.owner_country(obj))}'s administrators"

    def describe_out_of_scope(self, obj: Model) -> str:
        if not self.country_lookup:
            return super().describe_out_of_scope(obj)  # a row of no country
        return f"this {self.model._meta.verbose_name} {self.owner_phrase(obj)}"

    def readable(self, scope: Scope, obj: Model) -> bool:
        """Whether a country administrator may read a row of another country."""
        return self.foreign_read_only

    def readable_queryset(self, request: HttpRequest) -> QuerySet:
        """The rows a change page may show (read-only where not the user's)."""
        return self.get_queryset(request)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Model | None:
        queryset = self.readable_queryset(request)
        field = self.model._meta.pk if from_field is None else self.model._meta.get_field(from_field)
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (self.model.DoesNotExist, ValidationError, ValueError):
            return None

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = list(super().get_list_display(request))
        scope = self.scope(request)
        if self.foreign_read_only and scope.country and not scope.is_superuser:
            columns.insert(1, "ownership")
        return columns

    @admin.display(description="yours?")
    def ownership(self, obj: Model) -> str:
        return "foreign (read-only)" if is_foreign_row(obj) else "yours"

    def action_checkbox(self, obj: Model) -> str:
        # A foreign row cannot be selected: the actions would refuse it anyway.
        return "" if is_foreign_row(obj) else super().action_checkbox(obj)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        obj = self.get_object(request, unquote(object_id))
        scope = self.scope(request)
        if obj is not None and scope.country and not scope.owns(self.owner_country(obj)) and request.method == "GET":
            name = self.model._meta.verbose_name
            messages.info(request, f"This {name} {self.owner_phrase(obj)}: you view it read-only.")
        if obj is not None and not self.get_queryset(request).filter(pk=obj.pk).exists():
            # Opened read-only beyond the list: its history stays its country's.
            extra_context = {**(extra_context or {}), "history_hidden": True}
        return super().change_view(request, object_id, form_url, extra_context)
