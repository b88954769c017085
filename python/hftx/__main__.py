"""``python -m hftx`` is the ``hftx`` command."""

from hftx.cli import main

raise SystemExit(main())
