"""DVC Assistant: a chatbot that helps a commune get every household onto online public services."""

__version__ = "0.1.0"
