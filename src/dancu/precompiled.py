"""Selects the ORM would compile on every call, compiled once per database vendor.

Django builds the SQL of a queryset anew each time it runs it: for the small look-ups on the
log-in and authorisation path (a client with its profile, a user by id or name, a throttle row,
an account with an annotation) compiling costs more CPU than the database's answer — 0.3 to
1.5 ms each in ``bench/oidc_steps.py``'s profiles. A :class:`Select` keeps the statement and the
ORM's own converters for each column (``connection.ops.get_db_converters`` and the field's, as
``SQLCompiler.apply_converters`` applies them: SQLite's datetimes and booleans, JSON fields), runs
it on Django's connection with new parameter values, and builds model instances with
``Model.from_db`` as the ORM does. Statements are written with ``%s`` placeholders and table and
column names taken from the models (``quote`` below), never from values.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model
from django.db.models.expressions import Col

M = TypeVar("M", bound=Model)
Columns = Sequence[tuple[str, "Field[Any, Any]"]]


def quote(name: str) -> str:
    return str(connection.ops.quote_name(name))


def model_columns(alias: str, model: type[Model]) -> list[tuple[str, Field[Any, Any]]]:
    """Every concrete column of ``model`` under the table alias ``alias``, in the model's order
    (the order :meth:`Select.instance` expects)."""
    return [(alias, f) for f in model._meta.concrete_fields]


def column_list(columns: Columns) -> str:
    return ", ".join(f"{alias}.{quote(f.column)}" for alias, f in columns)


class Select:
    """``build()`` returns the statement for the current connection's vendor, selecting
    ``columns`` in that order; built (with its converters) the first time per vendor."""

    def __init__(self, build: Callable[[], str], columns: Columns) -> None:
        self._build = build
        self.columns = list(columns)
        self._built: dict[str, tuple[str, list[tuple[Col, list[Any]]]]] = {}
        self._lock = threading.Lock()

    def _compiled(self) -> tuple[str, list[tuple[Col, list[Any]]]]:
        built = self._built.get(connection.vendor)
        if built is None:
            converters = []
            for alias, field in self.columns:
                col = Col(alias, field)
                convs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                converters.append((col, convs))
            built = (self._build(), converters)
            with self._lock:
                self._built[connection.vendor] = built
        return built

    def rows(self, params: Sequence[Any]) -> list[list[Any]]:
        """Every row, each value converted as the ORM converts it."""
        sql, converters = self._compiled()
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            raw = cursor.fetchall()
        out = []
        for row in raw:
            values = list(row)
            for i, (col, convs) in enumerate(converters):
                for convert in convs:
                    values[i] = convert(values[i], col, connection)
            out.append(values)
        return out

    def first(self, params: Sequence[Any]) -> list[Any] | None:
        rows = self.rows(params)
        return rows[0] if rows else None


def instance(model: type[Model], values: Sequence[Any]) -> Any:
    """A ``model`` instance from the values of :func:`model_columns` (``Model.from_db``)."""
    return model.from_db(connection.alias, [f.attname for f in model._meta.concrete_fields], list(values))


class Insert:
    """``INSERT`` of one row of ``model`` with the columns of ``attnames`` (all but the primary key
    when None), the statement built once per vendor, each value prepared as the ORM prepares it
    for saving (``Field.get_db_prep_save``: JSON, datetimes, UUIDs). No ``pre_save`` and no
    ``pre_save``/``post_save`` signals: ``auto_now`` fields and defaults must be on the values
    given (an unsaved instance has its defaults)."""

    def __init__(self, model: type[Model], attnames: Sequence[str] | None = None) -> None:
        self.model = model
        pk = model._meta.pk
        concrete = [f for f in model._meta.concrete_fields if f is not pk]
        by_attname = {f.attname: f for f in concrete}
        self.fields = [by_attname[a] for a in attnames] if attnames is not None else concrete
        self._built: dict[str, str] = {}

    def _sql(self) -> str:
        sql = self._built.get(connection.vendor)
        if sql is None:
            columns = ", ".join(quote(f.column) for f in self.fields)
            marks = ", ".join(["%s"] * len(self.fields))
            pk_column = quote(str(self.model._meta.pk.column))
            sql = (
                f"INSERT INTO {quote(self.model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
                f" RETURNING {pk_column}"
            )
            self._built[connection.vendor] = sql
        return sql

    def run(self, values: Sequence[Any]) -> Any:
        """Insert the row; its primary key."""
        params = [f.get_db_prep_save(v, connection) for f, v in zip(self.fields, values, strict=True)]
        with connection.cursor() as cursor:
            cursor.execute(self._sql(), params)
            row = cursor.fetchone()
        return row[0] if row else None

    def save_new(self, obj: M) -> M:
        """Insert the unsaved ``obj`` (``Model.objects.create``'s row) and mark it saved."""
        obj.pk = self.run([getattr(obj, f.attname) for f in self.fields])
        obj._state.adding = False
        obj._state.db = connection.alias
        return obj
