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
