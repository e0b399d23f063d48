"""`python -m bot` is the same as the `dvcbot` command."""

from bot.cli import main

if __name__ == "__main__":  # not when a worker process (bot.heavy) imports the main module
    raise SystemExit(main())
