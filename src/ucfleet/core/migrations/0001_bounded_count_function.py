"""`ucfleet_bounded_count(query, exact_limit)`: the count of a long list in one
round trip (core.paging.bounded_count). PostgreSQL only; SQLite counts in Python."""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION ucfleet_bounded_count(query text, exact_limit integer)
RETURNS TABLE (n bigint, estimated boolean) LANGUAGE plpgsql AS $$
DECLARE
  plan json;
  guess bigint;
  counted bigint;
BEGIN
  -- Counted first, up to the limit: the planner's estimate of a small or never analyzed
  -- table (or of a join) can be far off, and a list within the limit is shown exactly.
  EXECUTE 'SELECT count(*) FROM (' || query || ' LIMIT ' || (exact_limit + 1)::text
    || ') AS bounded' INTO counted;
  IF counted <= exact_limit THEN
    RETURN QUERY SELECT counted, false;
    RETURN;
  END IF;
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
  guess := round((plan -> 0 -> 'Plan' ->> 'Plan Rows')::numeric)::bigint;
  RETURN QUERY SELECT greatest(guess, exact_limit + 1::bigint), true;
END
$$;
"""
DROP = "DROP FUNCTION IF EXISTS ucfleet_bounded_count(text, integer);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies: list[tuple[str, str]] = []
    operations = [migrations.RunPython(create, drop)]
