"""``python -m sim`` runs the ``onerecord`` command line."""

from sim.cli import main

raise SystemExit(main())
