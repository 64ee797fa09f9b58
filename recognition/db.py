"""Database plumbing of the verification path: the statements every
verification runs, handed to the driver with as little of Django's per-call
work as keeps its guarantees (DESIGN §5, §6: an answer costs little more than
the web framework and the signature).

- `execute_prepared`: planned once per connection on PostgreSQL;
- `execute_direct`: straight to the driver, still refused in a broken
  transaction, logged for query counts and passed to execute wrappers;
- `insert_together`: the rows of a request, in several tables, in one
  statement (PostgreSQL) or one INSERT a table (SQLite), each value
  prepared by its own field.
"""

import functools
import re
import sqlite3
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from django.db import models


@functools.lru_cache(maxsize=256)
def _insert_sql(table: str, columns: tuple[str, ...], rows: int) -> str:
    names = ", ".join(f'"{column}"' for column in columns)
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * rows)
    return f'INSERT INTO "{table}" ({names}) VALUES {values}'  # noqa: S608 (names from the model, values bound)


# Statements already prepared, by PostgreSQL connection (a new connection
# starts with none; a closed one drops out).
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def execute_prepared(
    cursor: Any, name: str, sql: str, types: Sequence[str] | Callable[[], Sequence[str]], params: Sequence[Any]
) -> None:
    """cursor.execute(sql, params), planned once per connection on
    PostgreSQL (PREPARE, then EXECUTE): the statements of every verification
    cost more to plan than to run. A prepared statement outlives a
    rolled-back transaction, and a connection pooler in transaction mode
    would not keep it (the registry connects directly). The PREPARE is part
    of setting up the connection, not of the request: it goes straight to
    the driver, like Django's connection health check, and no query count
    sees it. `sql` uses %s placeholders; `types` are their PostgreSQL types
    (or a function giving them, called only when the statement is prepared)."""
    connection = cursor.db
    if connection.vendor != "postgresql":
        execute_direct(cursor, sql, params)
        return
    done = _prepared.setdefault(connection.connection, set())
    if name not in done:
        types = types() if callable(types) else types
        numbered = iter(range(1, len(types) + 1))
        body = _PLACEHOLDER.sub(lambda match: f"${next(numbered)}", sql)
        with connection.wrap_database_errors:
            cursor.cursor.execute(f"PREPARE {name} ({', '.join(types)}) AS {body}")
        done.add(name)
    execute_direct(cursor, _execute_sql(name, len(params)), params)


@functools.lru_cache(maxsize=256)
def _execute_sql(name: str, count: int) -> str:
    return f"EXECUTE {name} ({', '.join(['%s'] * count)})"


@functools.lru_cache(maxsize=256)
def _qmark(sql: str) -> str | None:
    """The statement with SQLite's ? placeholders, or None when it has a %
    that is not a placeholder (then Django's own conversion is used)."""
    return sql.replace("%s", "?") if sql.count("%") == sql.count("%s") else None


def execute_direct(cursor: Any, sql: str, params: Sequence[Any] = ()) -> None:
    """cursor.execute(sql, params) for the statements every verification
    runs, handed to the driver without Django's per-call work (on SQLite the
    placeholders of the text are converted once, not on every call), with
    what that work is for kept: a statement in a transaction that must roll
    back is refused, errors are Django's, the statement is logged when
    queries are recorded (query counts, DEBUG), and a connection with
    execute wrappers gets Django's path."""
    connection = cursor.db
    if connection.execute_wrappers:  # someone wraps every statement (monitoring, tests): Django's own path
        cursor.execute(sql, params or None)
        return
    connection.validate_no_broken_transaction()
    started = time.monotonic()
    with connection.wrap_database_errors:
        if connection.vendor == "sqlite":
            qmark = _qmark(sql)
            if qmark is None:
                cursor.cursor.execute(sql, params)
            else:
                sqlite3.Cursor.execute(cursor.cursor, qmark, params)
        else:
            cursor.cursor.execute(sql, params or None)
    if connection.queries_logged:
        elapsed = f"{time.monotonic() - started:.3f}"
        connection.queries_log.append({"sql": sql, "time": elapsed})


_PLACEHOLDER = re.compile(r"%s")

# A text, integer or foreign key field hands a str, int or None to the
# database as it is; anything else is prepared by its field.
_AS_IS = (models.CharField, models.BigIntegerField, models.ForeignKey)
_PLAIN = (str, int, type(None))


@functools.lru_cache(maxsize=8)
def _plan(model: type[models.Model]) -> tuple[tuple[models.Field, str, bool], ...]:
    return tuple((field, field.attname, type(field) in _AS_IS) for field in model._meta.concrete_fields)


def _values(connection: Any, model: type[models.Model], objs: Sequence[models.Model]) -> list[Any]:
    """The parameters of a multi-row INSERT of `objs`, each value prepared as
    the ORM prepares it (a value shared by the rows of a request, their
    created_at, is prepared once)."""
    params = []
    last: dict[str, tuple[Any, Any]] = {}
    plan = _plan(model)
    for obj in objs:
        for field, attname, as_is in plan:
            value = getattr(obj, attname)
            if as_is and type(value) in _PLAIN:
                params.append(value)
                continue
            seen = last.get(attname)
            if seen is None or seen[0] is not value:
                seen = last[attname] = (value, field.get_db_prep_save(value, connection))
            params.append(seen[1])
    return params


def _types(connection: Any, model: type[models.Model]) -> list[str]:
    return [field.db_type(connection) for field in model._meta.concrete_fields]


def _table_insert(model: type[models.Model], rows: int) -> str:
    return _insert_sql(model._meta.db_table, tuple(field.column for field in model._meta.concrete_fields), rows)


def insert_together(connection: Any, groups: Sequence[tuple[type[models.Model], Sequence[models.Model]]]) -> None:
    """Insert new rows (every field set) into several tables. PostgreSQL: one
    statement, the first inserts as common table expressions of the last,
    planned once per connection: one round trip, and in autocommit one
    transaction. Elsewhere one INSERT a table (the caller makes the
    transaction). Django's bulk_create would cost several times more a row,
    and a round trip a table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            parts, params = [], []
            for model, objs in groups:
                parts.append(_table_insert(model, len(objs)))
                params += _values(connection, model, objs)

            def types() -> list[str]:  # needed once per connection, to prepare
                return [kind for model, objs in groups for kind in _types(connection, model) * len(objs)]

            first = ", ".join(f"i{n} AS ({part})" for n, part in enumerate(parts[:-1]))
            sql = f"WITH {first} {parts[-1]}" if first else parts[-1]
            shape = "_".join(f"{model._meta.model_name}{len(objs)}" for model, objs in groups)
            execute_prepared(cursor, f"insert_{shape}", sql, types, params)
            return
        for model, objs in groups:
            batch = max(connection.ops.bulk_batch_size(model._meta.concrete_fields, objs), 1)
            for start in range(0, len(objs), batch):
                chunk = objs[start : start + batch]
                execute_direct(cursor, _table_insert(model, len(chunk)), _values(connection, model, chunk))
