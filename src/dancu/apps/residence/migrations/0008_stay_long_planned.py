"""A partial index of the stays planned for 30 days or more (PostgreSQL).

``services._temporary_residence_stays`` asks for the guests staying now who reached 30 days or
announced 30 days or more (Law on Residence 2020 Art. 27: temporary residence to register). The
second half has no index: the police page read every guest staying in its area to find the few
long ones (120 ms for 50,000 guests in one ward, 2026-12-02). This index holds only the live stays
planned for 30 days or more; its predicate is the query's own expression (``expected_departure -
arrival``: an immutable difference, where ``arrival + interval`` depends on the session's time
zone and may not stand in an index predicate), so that PostgreSQL can use it. PostgreSQL only: on
SQLite Django computes the difference with a function of its own; the demo's few guests need no
index."""

from django.db import migrations

from dancu.migration_ops import sql_on

FORWARD = """
CREATE INDEX stay_long_planned ON residence_stay (arrival, id)
WHERE departed_at IS NULL AND (expected_departure - arrival) >= '30 days'::interval;
"""
BACKWARD = "DROP INDEX stay_long_planned;"


class Migration(migrations.Migration):
    dependencies = [
        ("residence", "0007_occupancy_counters"),
    ]

    operations = [sql_on("postgresql", FORWARD, BACKWARD)]
