"""The statements every verification runs go to the driver directly
(recognition.db.execute_direct): what Django's cursor does around a
statement still happens, and on PostgreSQL each is prepared once per
connection."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from recognition.db import execute_direct
from recognition.snapshots import Wanted, read_parties


def is_parties_read(sql: str) -> bool:
    # PostgreSQL runs the prepared statement by name; SQLite runs its text.
    return sql.startswith("EXECUTE recognition_parties_1 (") or sql.startswith("WITH wanted (n, issuer, sub, jti)")


def wanted(world) -> Wanted:
    return Wanted(issuer=world.cl.authority.issuer, kid=None, sub="CL-0001", jti=None, type_code=None)


def test_the_statement_is_counted_and_answers_as_through_django(world):
    with CaptureQueriesContext(connection) as queries:
        stamp, (party,) = read_parties([wanted(world)])
    assert [is_parties_read(query["sql"]) for query in queries.captured_queries] == [True]
    assert isinstance(stamp, int) and party.registration_number == "CL-0001"


def test_a_statement_in_a_transaction_that_must_roll_back_is_refused(world):
    with pytest.raises(TransactionManagementError), transaction.atomic():
        transaction.set_rollback(True)
        read_parties([wanted(world)])


def test_database_errors_are_djangos(world):
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        execute_direct(cursor, "SELECT no_such_column FROM recognition_registry_stamp")


def test_execute_wrappers_see_the_statements(world):
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        read_parties([wanted(world)])
    assert [is_parties_read(sql) for sql in seen] == [True]


def test_statements_are_prepared_once_per_connection_on_postgresql(postgres_only, world):
    from recognition import db
    from recognition.snapshots import Wanted, read_parties

    wanted = Wanted(issuer=world.cl.authority.issuer, kid=None, sub="CL-0001", jti=None, type_code=None)
    read_parties([wanted])
    read_parties([wanted])
    assert "recognition_parties_1" in db._prepared[connection.connection]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = 'recognition_parties_1'")
        assert cursor.fetchone()[0] == 1


def test_a_prepared_statement_outlives_a_rolled_back_transaction_on_postgresql(postgres_only, world):
    from recognition import db

    with transaction.atomic():
        read_parties([wanted(world)])  # prepared inside a transaction that is rolled back
        transaction.set_rollback(True)
    assert "recognition_parties_1" in db._prepared[connection.connection]
    stamp, (party,) = read_parties([wanted(world)])
    assert party.registration_number == "CL-0001"


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_its_statements_again(postgres_only, world):
    from recognition import db

    read_parties([wanted(world)])
    first = connection.connection
    connection.close()
    _, (party,) = read_parties([wanted(world)])
    assert party.registration_number == "CL-0001"
    assert connection.connection is not first
    assert "recognition_parties_1" in db._prepared[connection.connection]


def test_on_sqlite_a_prepared_statement_is_a_direct_one(world):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite has no PREPARE")
    from recognition.db import execute_prepared

    with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
        execute_prepared(
            cursor, "count_keys", "SELECT count(*) FROM identity_authoritykey WHERE kid <> %s", ["text"], ["-"]
        )
        assert cursor.fetchone() == (3,)
    assert [query["sql"] for query in queries.captured_queries] == [
        "SELECT count(*) FROM identity_authoritykey WHERE kid <> %s"
    ]


@pytest.mark.django_db(transaction=True)
def test_the_insert_of_a_request_works_out_its_column_types_only_to_prepare_it(postgres_only, world, monkeypatch):
    from django.utils import timezone

    from recognition import db
    from recognition.models import LogEntry, Verification
    from recognition.services.audit import record_decisions
    from tests.support.audit import entry

    connection.close()  # a new connection, whatever earlier tests prepared on this one

    worked_out = []
    types = db._types
    monkeypatch.setattr(db, "_types", lambda connection, model: worked_out.append(model) or types(connection, model))

    for _ in range(3):
        record_decisions([entry(), entry()], at=timezone.now())

    assert worked_out == [LogEntry, Verification]  # the first call prepares the statement; the others reuse it
    assert Verification.objects.count() == LogEntry.objects.filter(kind="decision").count() == 6
