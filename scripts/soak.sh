#!/usr/bin/env bash
# The chaos soak (bench/soak.py): 5,000 tasks and 10 minutes of chaos by default,
# `scripts/soak.sh --short` for the 2-3 minute form the test suite runs on PostgreSQL.
# It starts its own PostgreSQL cluster (initdb/pg_ctl, port 18700 by default): the
# machine's shared server is never restarted. Exit status 0 when every invariant holds.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python bench/soak.py "$@"
