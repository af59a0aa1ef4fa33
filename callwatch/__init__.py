"""callwatch: how a medical or dental practice answers its phones."""

__version__ = "0.1.0"
