"""`python -m bot` is the same as the `dvcbot` command."""

from bot.cli import main

raise SystemExit(main())
