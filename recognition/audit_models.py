"""The audit log of decisions (DESIGN §6): one append-only row per decision,
chained by SHA-256."""

import functools
import io
import json
import re
import sqlite3
import time
import uuid
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, models, transaction
from django.db.models import signals
from django.db.models.base import ModelState


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
    cost more to plan than to run (issue 5). A prepared statement outlives a
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


@functools.cache
def _attnames(model: type[models.Model]) -> frozenset[str]:
    return frozenset(field.attname for field in model._meta.concrete_fields)


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or delete an audit row."""


class VerificationQuerySet(models.QuerySet):
    def update(self, **kwargs):  # noqa: ANN003, ANN201
        raise AppendOnlyError("audit rows are append-only; they cannot be updated")

    def bulk_create(
        self, objs: Iterable["Verification"], *args: Any, update_conflicts: bool = False, **kwargs: Any
    ) -> list["Verification"]:
        # An upsert (INSERT ... ON CONFLICT DO UPDATE) rewrites existing rows.
        if update_conflicts:
            raise AppendOnlyError("audit rows are append-only; they cannot be upserted")
        objs = list(objs)
        if args or kwargs or not objs or any(obj.pk is None for obj in objs):
            return super().bulk_create(objs, *args, **kwargs)
        return self._insert(objs)

    def _insert(self, objs: list["Verification"]) -> list["Verification"]:
        """What bulk_create does for new rows whose every field is set, at a
        fraction of its cost: on PostgreSQL one COPY, elsewhere one INSERT per
        batch, each value prepared by its own field, as the ORM prepares it
        (every verification writes a row; tests/api/test_hot_path_audit.py
        compares both on the same rows)."""
        connection = connections[self.db]
        if connection.vendor == "postgresql":
            with transaction.atomic(using=self.db, savepoint=False):
                _copy_rows(connection, self.model, objs)
        else:
            self._insert_statements(connection, objs)
        for obj in objs:
            obj._state.adding = False
            obj._state.db = self.db
        return objs

    def _insert_statements(self, connection: Any, objs: list["Verification"]) -> None:
        fields = self.model._meta.concrete_fields
        # A text, integer or foreign key field hands a str, int or None to the
        # database as it is; anything else is prepared by its field.
        plan = [(field, field.attname, type(field) in _AS_IS) for field in fields]
        sql = functools.partial(_insert_sql, self.model._meta.db_table, tuple(field.column for field in fields))
        types = [field.db_type(connection) for field in fields]
        batch = max(connection.ops.bulk_batch_size(fields, objs), 1)
        with transaction.atomic(using=self.db, savepoint=False), connection.cursor() as cursor:
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
                execute_prepared(cursor, f"recognition_audit_insert_{rows}", sql(rows), types * rows, params)

    def delete(self):  # noqa: ANN201
        raise AppendOnlyError("audit rows are append-only; they cannot be deleted")


class Verification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    client = models.CharField(max_length=150)
    destination = models.CharField(max_length=2)
    origin = models.CharField(max_length=2, blank=True, default="")
    declared_origin = models.CharField(max_length=2, blank=True, default="")
    issuer = models.CharField(max_length=500, blank=True, default="")
    kid = models.CharField(max_length=200, blank=True, default="")
    subject = models.CharField(max_length=200, blank=True, default="")
    jti = models.CharField(max_length=200, blank=True, default="")
    token_sha256 = models.CharField(max_length=64)
    decision = models.CharField(max_length=8, choices=[("accepted", "accepted"), ("rejected", "rejected")])
    reasons = models.JSONField(default=list)
    agreement = models.ForeignKey(
        "recognition.RecognitionAgreement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="verifications",
    )
    agreement_version = models.BigIntegerField(
        null=True, blank=True, help_text="history_id of the agreement version that was applied"
    )
    prev_hash = models.CharField(max_length=64)
    # Unique by a constraint, not unique=True: on PostgreSQL the latter also
    # builds a LIKE index that nothing reads and every append pays for.
    hash = models.CharField(max_length=64)

    objects = VerificationQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        # The audit API's filters (recognition/api/filters.py): pages are
        # `seq > cursor ORDER BY seq`, so a filtered column is indexed with
        # seq after it, and a page reads the value's rows from the cursor on,
        # whatever the depth. created_at with seq: since/until become seq
        # bounds by one probe (created_at never decreases along the chain).
        # On PostgreSQL a GIN index serves `reason` (migration 0008). Each
        # index is one more insert a row on the hot path: no index without a
        # filter that needs it (tests/api/test_hot_path_audit.py lists them).
        indexes = [
            models.Index(fields=["created_at", "seq"], name="verification_created_at_seq"),
            models.Index(fields=["destination", "seq"], name="verification_destination"),
            models.Index(fields=["origin", "seq"], name="verification_origin"),
            models.Index(fields=["issuer", "seq"], name="verification_issuer"),
            models.Index(fields=["decision", "seq"], name="verification_decision"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["hash"], name="verification_hash_unique"),
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="verification_seq_positive"),
            models.CheckConstraint(
                condition=models.Q(decision__in=["accepted", "rejected"]), name="verification_decision_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.decision}"

    def save(
        self,
        *,
        force_insert: bool = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: object = None,
    ) -> None:
        # A new instance that carries an existing row's primary key would,
        # with force_update or update_fields, UPDATE that row: only a plain
        # INSERT of a new row is allowed.
        if not self._state.adding or force_update or update_fields is not None:
            raise AppendOnlyError("audit rows are append-only; they cannot be updated")
        super().save(force_insert=True, using=using)

    def delete(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        raise AppendOnlyError("audit rows are append-only; they cannot be deleted")

    @classmethod
    def unsaved(cls, values: dict[str, Any]) -> "Verification":
        """A new, unsaved row from the value of every field (by attname), as
        Verification(**values) builds it, without Model.__init__'s work for
        each field: no field of this model has a descriptor that runs on
        assignment, and nothing listens to its init signals (if something
        does, Model.__init__ builds it). Every decision builds one;
        tests/api/test_hot_path_audit.py compares both."""
        if values.keys() != _attnames(cls):
            raise TypeError(f"a {cls.__name__} needs exactly the fields {sorted(_attnames(cls))}")
        if signals.pre_init.has_listeners(cls) or signals.post_init.has_listeners(cls):
            return cls(**values)
        row = cls.__new__(cls)
        row.__dict__.update(values)
        row._state = ModelState()
        return row
