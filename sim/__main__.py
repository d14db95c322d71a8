"""``python -m sim`` runs the ``onerecord`` command line.

Ctrl-C while the package is still loading (a second or more on a busy machine) ends the same way as
Ctrl-C during a command: one line on stderr, exit status 130, nothing written.
"""

import sys

try:
    from sim.cli import main
except KeyboardInterrupt:
    sys.stderr.write("onerecord: interrupted; nothing half-written was kept\n")
    sys.exit(130)

if __name__ == "__main__":
    raise SystemExit(main())  # the command's exit status (2 bad input, 3 environment, 130 Ctrl-C)
