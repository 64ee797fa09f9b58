from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Authorities, keys and merchants"

    def ready(self) -> None:
        from identity.services import authorities, keys

        authorities.register_executors()
        keys.register_executors()
