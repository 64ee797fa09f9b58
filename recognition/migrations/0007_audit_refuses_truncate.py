"""On PostgreSQL the database refuses TRUNCATE of the audit log too (DESIGN §6:
append-only). The row trigger of 0003 never fires on TRUNCATE, which emptied
the table in one statement and left `verify_audit_chain` reporting an intact
chain of 0 records. A statement trigger fires for a TRUNCATE of the table
itself and for one that reaches it through CASCADE (from the agreements).

One exception, for test runners: Django's `flush` (run after every
transactional test) empties every table with TRUNCATE. The trigger lets a
TRUNCATE through when the transaction has set the custom setting
`recognition.allow_audit_truncate` to `on` *and* the current role holds the
table owner's privileges (the owner, a member of the owning role, or a
superuser); only the test suite's flush sets it. Any role may
SET a custom setting, so the role check is what makes this no bypass: only a
role that could DROP or DISABLE the trigger anyway gets through. SQLite has
no TRUNCATE; there the application's refusal is all there is.
"""

from django.db import migrations

from recognition.migrations._postgresql import on_postgresql

CREATE = """
CREATE FUNCTION recognition_verification_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('recognition.allow_audit_truncate', true) = 'on'
       AND pg_has_role((SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'recognition_verification is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER recognition_verification_no_truncate
    BEFORE TRUNCATE ON recognition_verification
    FOR EACH STATEMENT EXECUTE FUNCTION recognition_verification_no_truncate();
"""

DROP = """
DROP TRIGGER IF EXISTS recognition_verification_no_truncate ON recognition_verification;
DROP FUNCTION IF EXISTS recognition_verification_no_truncate();
"""


class Migration(migrations.Migration):
    dependencies = [("recognition", "0006_audit_hash_unique_without_like_index")]

    operations = [on_postgresql(CREATE, DROP)]
