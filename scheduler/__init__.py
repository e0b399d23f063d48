"""Scheduled jobs: plain async functions taking `now`, wired to APScheduler in `scheduler.app`."""
