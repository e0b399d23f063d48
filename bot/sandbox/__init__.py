"""Offline stand-ins for Telegram so the bot can be exercised end to end without the network."""
