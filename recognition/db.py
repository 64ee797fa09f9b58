"""Database plumbing of the verification path: the statements every
verification runs, handed to the driver with as little of Django's per-call
work as keeps its guarantees (DESIGN §5, §6: an answer costs little more than
the web framework and the signature).

- `execute_prepared`: planned once per connection on PostgreSQL;
- `execute_direct`: straight to the driver, still refused in a broken
  transaction, logged for query counts and passed to execute wrappers;
- `insert_rows`: the rows of a request in one COPY (PostgreSQL) or one
  INSERT a batch (SQLite), each value prepared by its own field.
"""

import functools
import io
import json
import re
import sqlite3
import time
import uuid
import weakref
from collections.abc import Sequence
from typing import Any

from django.db import connections, models, transaction


@functools.lru_cache(maxsize=256)
def _insert_sql(table: str, columns: tuple[str, ...], rows: int) -> str:
    names = ", ".join(f'"{column}"' for column in columns)
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * rows)
    return f'INSERT INTO "{table}" ({names}) VALUES {values}'  # noqa: S608 (names from the model, values bound)


# Statements already prepared, by PostgreSQL connection (a new connection
# starts with none; a closed one drops out).
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def execute_prepared(cursor: Any, name: str, sql: str, types: Sequence[str], params: Sequence[Any]) -> None:
    """cursor.execute(sql, params), planned once per connection on
    PostgreSQL (PREPARE, then EXECUTE): the statements of every verification
    cost more to plan than to run. A prepared statement outlives a
    rolled-back transaction, and a connection pooler in transaction mode
    would not keep it (the registry connects directly). The PREPARE is part
    of setting up the connection, not of the request: it goes straight to
    the driver, like Django's connection health check, and no query count
    sees it. `sql` uses %s placeholders; `types` are their PostgreSQL types."""
    connection = cursor.db
    if connection.vendor != "postgresql":
        execute_direct(cursor, sql, params)
        return
    done = _prepared.setdefault(connection.connection, set())
    if name not in done:
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

# COPY's text format: a tab between columns, a newline after a row, \N for
# NULL, and a backslash before the backslashes, tabs, newlines and carriage
# returns of a value (PostgreSQL "COPY", File Formats: Text Format).
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return value.translate(_COPY_ESCAPES)
    if value is None:
        return "\\N"
    if kind is int or kind is uuid.UUID:  # digits, hex and dashes: nothing to escape
        return str(value)
    return str(value).translate(_COPY_ESCAPES)


@functools.lru_cache(maxsize=8)
def _copy_converters(model: type[models.Model]) -> list[tuple[str, Any]]:
    """(attname, value -> COPY text) for each column, in order; only the
    field types the audit row has (a new type must say how it is copied)."""
    plan = []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.JSONField):
            convert = functools.partial(_json_text, field.encoder)
        elif isinstance(field, models.DateTimeField):
            convert = _timestamp_text
        elif isinstance(field, models.CharField | models.BigIntegerField | models.ForeignKey | models.UUIDField):
            convert = _copy_text
        else:
            raise TypeError(f"{model.__name__}.{field.name}: no COPY text for {type(field).__name__}")
        plan.append((field.attname, convert))
    return plan


def _json_text(encoder: Any, value: Any) -> str:
    # As JSONField prepares it for PostgreSQL (json.dumps with its encoder).
    return _copy_text(None if value is None else json.dumps(value, cls=encoder))


def _timestamp_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value.tzinfo is None:  # what DateTimeField would refuse with USE_TZ: never guessed here
        raise ValueError("an audit timestamp must carry its time zone")
    return value.isoformat()


def _copy_rows(connection: Any, model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """The rows in one COPY FROM STDIN. The statement goes to the driver
    (Django's cursor has no COPY): it is logged like any statement when
    queries are recorded, and its errors are Django's (IntegrityError ...)."""
    plan = _copy_converters(model)
    last: dict[str, tuple[Any, str]] = {}  # the rows of a request share created_at
    lines = []
    for obj in objs:
        cells = []
        for attname, convert in plan:
            value = getattr(obj, attname)
            seen = last.get(attname)
            if seen is None or seen[0] is not value:
                seen = last[attname] = (value, convert(value))
            cells.append(seen[1])
        lines.append("\t".join(cells))
    table = model._meta.db_table
    columns = ", ".join(f'"{field.column}"' for field in model._meta.concrete_fields)
    sql = f'COPY "{table}" ({columns}) FROM STDIN'
    started = time.monotonic()
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.cursor.copy_expert(sql, io.StringIO("\n".join(lines) + "\n"))
    if connection.queries_logged:
        elapsed = f"{time.monotonic() - started:.3f}"
        connection.queries_log.append({"sql": f"{sql} -- {len(objs)} rows", "time": elapsed})


_AS_IS = (models.CharField, models.BigIntegerField, models.ForeignKey)
_PLAIN = (str, int, type(None))


def insert_rows(model: type[models.Model], objs: list[models.Model], *, using: str) -> list[models.Model]:
    """What bulk_create does for new rows whose every field is set, at a
    fraction of its cost: on PostgreSQL one COPY, elsewhere one INSERT per
    batch, each value prepared by its own field, as the ORM prepares it
    (every verification writes an audit row)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with transaction.atomic(using=using, savepoint=False):
            _copy_rows(connection, model, objs)
    else:
        _insert_statements(connection, model, objs, using=using)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return objs


def _insert_statements(connection: Any, model: type[models.Model], objs: list[models.Model], *, using: str) -> None:
    fields = model._meta.concrete_fields
    # A text, integer or foreign key field hands a str, int or None to the
    # database as it is; anything else is prepared by its field.
    plan = [(field, field.attname, type(field) in _AS_IS) for field in fields]
    table = model._meta.db_table
    sql = functools.partial(_insert_sql, table, tuple(field.column for field in fields))
    types = [field.db_type(connection) for field in fields]
    batch = max(connection.ops.bulk_batch_size(fields, objs), 1)
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        for start in range(0, len(objs), batch):
            chunk = objs[start : start + batch]
            params = []
            last: dict[str, tuple[Any, Any]] = {}  # the rows of a request share created_at
            for obj in chunk:
                for field, attname, as_is in plan:
                    value = getattr(obj, attname)
                    if as_is and type(value) in _PLAIN:
                        params.append(value)
                        continue
                    seen = last.get(attname)
                    if seen is None or seen[0] is not value:
                        seen = last[attname] = (value, field.get_db_prep_save(value, connection))
                    params.append(seen[1])
            rows = len(chunk)
            execute_prepared(cursor, f"{table}_insert_{rows}", sql(rows), types * rows, params)
