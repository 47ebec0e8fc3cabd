"""``python -m metarlm``: the ``metarlm`` command line."""

from metarlm.cli import main

main()
