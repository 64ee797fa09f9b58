from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    verbose_name = "Recognition"

    def ready(self) -> None:
        from recognition import checks  # noqa: F401 (registers the system checks)
        from recognition.log import changes
        from recognition.services import agreements

        changes.connect()
        agreements.register_executors()
