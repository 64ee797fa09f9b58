"""Migrations are complete and descriptively named (STYLE.md)."""

from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

# Every app of the registry that has models (core has none; demo has none).
PROJECT_APPS = ("accounts", "identity", "recognition")


@pytest.mark.django_db
def test_models_have_no_missing_migrations():
    out = StringIO()
    # --check exits non-zero (SystemExit) when a migration is missing.
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.parametrize("app_label", PROJECT_APPS)
def test_migration_names_are_descriptive(app_label):
    migrations = Path(apps.get_app_config(app_label).path) / "migrations"
    names = [path.stem for path in migrations.glob("[0-9]*.py")]
    assert names, f"{app_label} has no migrations"
    for name in names:
        assert "auto_" not in name, f"{app_label}/{name}: give the migration a descriptive name"
        assert name.split("_", 1)[1:], f"{app_label}/{name}: give the migration a descriptive name"
