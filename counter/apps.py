from django.apps import AppConfig


class CounterConfig(AppConfig):
    name = "counter"

    def ready(self) -> None:
        from counter import checks  # noqa: F401  (registers the system checks)
