"""Settings: one validated object, loaded once (see settings.py)."""

from callwatch.config.settings import ConfigError, Settings, load_settings, secret

__all__ = ["ConfigError", "Settings", "load_settings", "secret"]
