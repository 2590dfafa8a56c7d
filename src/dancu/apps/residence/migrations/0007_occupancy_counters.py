"""Occupancy counters kept by PostgreSQL (ADR 0018, sixth step).

The capacity check of a check-in (``services._capacity_problems``: guests staying now plus the new
ones within the beds; a new room within the rooms) counted the establishment's live stays on every
check-in — O(guests staying): 1.3 ms at an empty hotel, 25.6 ms at one with 20,000 (an
industrial-zone dormitory's size), measured 2026-12-02 on ``dancu_lookup``. Two tables hold the
counts instead, kept by statement-level triggers on ``residence_stay`` (transition tables), so
that every writer — the ORM, the set-based batch, check-out, room changes, deletes — keeps them
exact within its own transaction:

* ``residence_occupancy``: per establishment, ``guests`` (live stays) and ``rooms`` (rooms with
  at least one live stay);
* ``residence_room_occupancy``: per establishment and room, ``guests``.

"Live" is exactly the counting query's predicate, ``departed_at IS NULL``. Locks are taken in one
order by every writer — the establishments' rows by id, then the rooms' rows by (establishment,
room) — so two transactions writing stays at the same establishment wait for each other and
cannot deadlock. ``TRUNCATE residence_stay`` (the test runner's flush) empties both tables; they
have no foreign keys, so that such a flush of the Django tables is not refused.
``batch_pg.recount_occupancy`` counts them again from the stays (after writes made with triggers
disabled, e.g. ``session_replication_role = replica``).

PostgreSQL only: the reference path (SQLite, or the switch off) counts as before; only
``batch_pg`` reads the counters. The existing live stays are counted in, under a ``SHARE`` lock on
the stays so that no write slips between the count and the triggers."""

from django.db import migrations

from dancu.migration_ops import sql_on

FORWARD = """
LOCK TABLE residence_stay IN SHARE MODE;

CREATE TABLE residence_occupancy (
    establishment_id bigint PRIMARY KEY,
    guests integer NOT NULL,
    rooms integer NOT NULL
);
CREATE TABLE residence_room_occupancy (
    establishment_id bigint NOT NULL,
    room varchar(20) NOT NULL,
    guests integer NOT NULL,
    PRIMARY KEY (establishment_id, room)
);

CREATE FUNCTION residence_occupancy_add(es bigint[], rs text[], ds integer[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- The establishments first, in id order.
    INSERT INTO residence_occupancy AS o (establishment_id, guests, rooms)
    SELECT e, sum(d), 0 FROM unnest(es, ds) AS t (e, d) GROUP BY e ORDER BY e
    ON CONFLICT (establishment_id) DO UPDATE SET guests = o.guests + excluded.guests;
    -- Then the rooms, in (establishment, room) order; a room that reaches or leaves zero
    -- changes its establishment's count of occupied rooms.
    WITH t AS (
        SELECT e, r, d FROM unnest(es, rs, ds) AS t (e, r, d)
    ), upserted AS (
        INSERT INTO residence_room_occupancy AS ro (establishment_id, room, guests)
        SELECT e, r, d FROM t ORDER BY e, r
        ON CONFLICT (establishment_id, room) DO UPDATE SET guests = ro.guests + excluded.guests
        RETURNING establishment_id, room, guests
    ), flips AS (
        SELECT u.establishment_id AS e,
               sum(CASE WHEN u.guests > 0 AND u.guests - t.d = 0 THEN 1
                        WHEN u.guests = 0 AND u.guests - t.d > 0 THEN -1 ELSE 0 END) AS f
        FROM upserted u JOIN t ON t.e = u.establishment_id AND t.r = u.room
        GROUP BY u.establishment_id
    )
    UPDATE residence_occupancy o SET rooms = o.rooms + flips.f
    FROM flips WHERE o.establishment_id = flips.e AND flips.f <> 0;
END
$$;

CREATE FUNCTION residence_occupancy_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE es bigint[]; rs text[]; ds integer[];
BEGIN
    SELECT array_agg(e ORDER BY e, r), array_agg(r ORDER BY e, r), array_agg(d ORDER BY e, r)
    INTO es, rs, ds
    FROM (SELECT establishment_id AS e, room AS r, count(*)::integer AS d
          FROM new_stays WHERE departed_at IS NULL GROUP BY 1, 2) AS x;
    IF es IS NOT NULL THEN PERFORM residence_occupancy_add(es, rs, ds); END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION residence_occupancy_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE es bigint[]; rs text[]; ds integer[];
BEGIN
    SELECT array_agg(e ORDER BY e, r), array_agg(r ORDER BY e, r), array_agg(d ORDER BY e, r)
    INTO es, rs, ds
    FROM (SELECT e, r, sum(d)::integer AS d FROM (
              SELECT establishment_id AS e, room AS r, 1 AS d FROM new_stays WHERE departed_at IS NULL
              UNION ALL
              SELECT establishment_id, room, -1 FROM old_stays WHERE departed_at IS NULL
          ) AS y GROUP BY 1, 2 HAVING sum(d) <> 0) AS x;
    IF es IS NOT NULL THEN PERFORM residence_occupancy_add(es, rs, ds); END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION residence_occupancy_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE es bigint[]; rs text[]; ds integer[];
BEGIN
    SELECT array_agg(e ORDER BY e, r), array_agg(r ORDER BY e, r), array_agg(d ORDER BY e, r)
    INTO es, rs, ds
    FROM (SELECT establishment_id AS e, room AS r, -count(*)::integer AS d
          FROM old_stays WHERE departed_at IS NULL GROUP BY 1, 2) AS x;
    IF es IS NOT NULL THEN PERFORM residence_occupancy_add(es, rs, ds); END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION residence_occupancy_on_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM residence_room_occupancy;
    DELETE FROM residence_occupancy;
    RETURN NULL;
END
$$;

CREATE TRIGGER residence_occupancy_insert AFTER INSERT ON residence_stay
    REFERENCING NEW TABLE AS new_stays
    FOR EACH STATEMENT EXECUTE FUNCTION residence_occupancy_on_insert();
CREATE TRIGGER residence_occupancy_update AFTER UPDATE ON residence_stay
    REFERENCING OLD TABLE AS old_stays NEW TABLE AS new_stays
    FOR EACH STATEMENT EXECUTE FUNCTION residence_occupancy_on_update();
CREATE TRIGGER residence_occupancy_delete AFTER DELETE ON residence_stay
    REFERENCING OLD TABLE AS old_stays
    FOR EACH STATEMENT EXECUTE FUNCTION residence_occupancy_on_delete();
CREATE TRIGGER residence_occupancy_truncate AFTER TRUNCATE ON residence_stay
    FOR EACH STATEMENT EXECUTE FUNCTION residence_occupancy_on_truncate();

INSERT INTO residence_room_occupancy (establishment_id, room, guests)
SELECT establishment_id, room, count(*) FROM residence_stay WHERE departed_at IS NULL GROUP BY 1, 2;
INSERT INTO residence_occupancy (establishment_id, guests, rooms)
SELECT establishment_id, sum(guests), count(*) FROM residence_room_occupancy GROUP BY 1;
"""

BACKWARD = """
DROP TRIGGER residence_occupancy_insert ON residence_stay;
DROP TRIGGER residence_occupancy_update ON residence_stay;
DROP TRIGGER residence_occupancy_delete ON residence_stay;
DROP TRIGGER residence_occupancy_truncate ON residence_stay;
DROP FUNCTION residence_occupancy_on_insert();
DROP FUNCTION residence_occupancy_on_update();
DROP FUNCTION residence_occupancy_on_delete();
DROP FUNCTION residence_occupancy_on_truncate();
DROP FUNCTION residence_occupancy_add(bigint[], text[], integer[]);
DROP TABLE residence_room_occupancy;
DROP TABLE residence_occupancy;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("residence", "0006_stay_lean_indexes"),
    ]

    operations = [sql_on("postgresql", FORWARD, BACKWARD)]
