"""Migrations never leave a half-done database (dbtools/atomic.py), on SQLite as elsewhere.

A temporary extra revision does real work (renames a table, adds a column, inserts a row)
and then raises. The database must look exactly as if that revision had never started.
"""

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from chain import SOLUTION, Chain, copy_migrations, rows, run_flask, tables
from dbtools import lesson

HALF_DONE = """
    op.rename_table('employees', 'staff')
    op.add_column('departments', sa.Column('budget', sa.Integer()))
    op.execute("INSERT INTO departments (name, location) VALUES ('Ghost', 'Nowhere')")
    raise RuntimeError('injected failure after real work')
"""


@pytest.fixture
def faulty(make_app, tmp_path):
    """The lesson's chain plus a fifth revision that fails half-way."""
    head = Chain(make_app()).revisions[-1]
    migrations = copy_migrations(tmp_path, ('fa11ed000005', head, HALF_DONE, 'pass'))
    return Chain(make_app(MIGRATIONS_DIR=migrations))


def test_a_failing_revision_leaves_the_database_as_it_was(faulty):
    """One step: schema, rows and recorded revision are all as before the step."""
    faulty.climb(4)
    before = faulty.state()
    with pytest.raises(RuntimeError, match='injected failure'):
        faulty.upgrade('head')
    assert faulty.state() == before, 'the failed revision left changes behind'


def test_a_failing_upgrade_stops_at_the_last_revision_that_worked(faulty):
    """Several steps: the good ones stay applied, and alembic_version says exactly that."""
    faulty.climb(2)
    with pytest.raises(RuntimeError, match='injected failure'):
        faulty.upgrade('head')
    snap = faulty.snapshot()
    assert snap.revision == (faulty.rev(4),), 'alembic_version should name revision 4'
    assert tables(snap) == lesson.SCHEMAS[4], 'revision 4 schema expected after the failure'
    assert rows(snap) == lesson.ROWS[4], 'rows of revision 4 expected after the failure'


def test_two_upgrades_at_once_apply_each_revision_exactly_once(server_database, tmp_path):
    """The second `flask db upgrade` waits for the first, then finds nothing left to do."""
    head = ScriptDirectory(str(SOLUTION)).get_current_head()
    slow = copy_migrations(
        tmp_path, ('510e00000005', head, "op.execute('SELECT pg_sleep(2)')", 'pass')
    )
    args = ('db', 'upgrade', '--directory', str(slow))
    first = run_flask(*args, database_url=server_database, background=True)
    seen = []
    for line in first.stderr:  # wait until the first holds the lock, inside the slow step
        seen.append(line)
        if '-> 510e00000005' in line:
            break
    second = run_flask(*args, database_url=server_database, background=True)
    out_second = second.communicate(timeout=60)[1]
    out_first = ''.join(seen) + first.communicate(timeout=60)[1]

    assert (first.returncode, second.returncode) == (0, 0), out_first + out_second
    assert out_first.count('Running upgrade') == 5, out_first
    assert out_second.count('Running upgrade') == 0, out_second
    assert 'waiting for it to finish' in out_second, out_second
    engine = sa.create_engine(server_database, poolclass=NullPool)
    with engine.connect() as connection:
        versions = connection.exec_driver_sql('SELECT version_num FROM alembic_version').all()
    assert versions == [('510e00000005',)], f'alembic_version holds {versions}'
