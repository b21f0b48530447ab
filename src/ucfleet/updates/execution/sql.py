"""Raw SQL helpers for the execution transitions' hot paths (claim, completion).

The worker's claim and completion run thousands of times a minute; building their queries
through the ORM cost more than running them (as for the bulk insert of decision 0001). The
statements stay portable between SQLite (≥ 3.35: RETURNING) and PostgreSQL; values are
adapted by the connection's own operations, as the ORM would write them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection, models


def quote(model: type[models.Model]) -> str:
    """The model's table name, quoted for this database."""
    return connection.ops.quote_name(model._meta.db_table)


def stamp(value: datetime) -> Any:
    """A datetime as this database stores it (SQLite: naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)
