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
from typing import Any

from django.db import connection
from django.db.models import Field, Model
from django.db.models.expressions import Col

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
