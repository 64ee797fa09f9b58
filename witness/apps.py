from django.apps import AppConfig


class WitnessConfig(AppConfig):
    """The witness a partner country runs (DESIGN §11): no models, no use of
    the registry's database; its state is its own SQLite file."""

    name = "witness"
    default_auto_field = "django.db.models.BigAutoField"
