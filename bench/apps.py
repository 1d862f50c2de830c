from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The performance bench: its data generator command; no models, never imported by the apps."""

    name = "bench"
    verbose_name = "Banc de mesure des performances"
