import sys

from ucfleet.simulator.server import main

sys.exit(main(prog="python -m ucfleet.simulator"))
