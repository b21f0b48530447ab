#!/usr/bin/env python
import sys

from ucfleet.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], prog="manage.py"))
