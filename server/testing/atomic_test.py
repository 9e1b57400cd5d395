"""Migrations never leave a half-done database (dbtools/atomic.py), on SQLite as elsewhere.

A temporary extra revision does real work (renames a table, adds a column, inserts a row)
and then raises. The database must look exactly as if that revision had never started: on
MySQL/MariaDB, whose DDL commits itself, because dbtools/undo.py reverses what was applied.
"""

import threading

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from chain import SOLUTION, Chain, copy_migrations, rows, run_flask, tables
from dbtools import atomic, errors, lesson
from models import db

HALF_DONE = """
    op.rename_table('employees', 'staff')
    op.add_column('departments', sa.Column('budget', sa.Integer()))
    op.execute("INSERT INTO departments (name, location) VALUES ('Ghost', 'Nowhere')")
    raise RuntimeError('injected failure after real work')
"""


SLEEP = (
    "op.execute('SELECT pg_sleep(2)' if op.get_bind().dialect.name == 'postgresql' "
    "else 'SELECT SLEEP(2)')"
)


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
    with pytest.raises((RuntimeError, errors.Explained), match='injected failure'):
        faulty.upgrade('head')
    assert faulty.state() == before, 'the failed revision left changes behind'


def test_a_failing_upgrade_stops_at_the_last_revision_that_worked(faulty):
    """Several steps: the good ones stay applied, and alembic_version says exactly that."""
    faulty.climb(2)
    with pytest.raises((RuntimeError, errors.Explained), match='injected failure'):
        faulty.upgrade('head')
    snap = faulty.snapshot()
    assert snap.revision == (faulty.rev(4),), 'alembic_version should name revision 4'
    assert tables(snap) == lesson.SCHEMAS[4], 'revision 4 schema expected after the failure'
    assert rows(snap) == lesson.ROWS[4], 'rows of revision 4 expected after the failure'


def test_two_upgrades_at_once_apply_each_revision_exactly_once(server_database, tmp_path):
    """The second `flask db upgrade` waits for the first, then finds nothing left to do."""
    head = ScriptDirectory(str(SOLUTION)).get_current_head()
    slow = copy_migrations(tmp_path, ('510e00000005', head, SLEEP, 'pass'))
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


@pytest.fixture
def hold(app):
    """hold() takes the migration lock as a first migrating process would; release.set()."""
    release, holders = threading.Event(), []

    def hold():
        taken = threading.Event()

        def holding():
            with app.app_context(), atomic.one_at_a_time(atomic.prepare(db.engine)):
                taken.set()
                release.wait(timeout=30)

        holders.append(threading.Thread(target=holding))
        holders[-1].start()
        assert taken.wait(timeout=30), 'the lock was never taken'
        return release

    yield hold
    release.set()
    for holder in holders:
        holder.join(timeout=30)


def test_a_second_migrating_command_waits_for_the_first(chain, hold, capsys, backend):
    """SQLite has no advisory locks; a lock file stands in, and the second one waits."""
    held = hold()
    second = threading.Thread(target=chain.upgrade)
    second.start()
    second.join(timeout=0.15)
    assert second.is_alive(), 'the second upgrade did not wait for the lock'
    assert chain.snapshot().revision == (), f'{backend}: it migrated while the lock was held'
    held.set()
    second.join(timeout=30)
    assert chain.snapshot().revision == (chain.rev(4),), 'it did not migrate once free'
    assert 'waiting for it to finish' in capsys.readouterr().err


def test_read_only_commands_never_wait_for_a_migration(chain, hold, runner):
    chain.climb(2)
    hold()
    for args in (['db', 'current'], ['db', 'history'], ['schema']):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, f'{args}: {result.output}'
        assert 'waiting' not in result.output, f'{args} waited for the lock'


def test_rehearse_waits_for_a_running_migration(chain, hold):
    chain.climb(2)
    held = hold()
    results, runner = [], chain.app.test_cli_runner()

    def rehearse():
        results.append(runner.invoke(args=['db', 'rehearse']))

    rehearsing = threading.Thread(target=rehearse)
    rehearsing.start()
    rehearsing.join(timeout=0.15)
    assert rehearsing.is_alive(), f'rehearse did not wait for the running migration: {results}'
    held.set()
    rehearsing.join(timeout=30)
    assert results[0].exit_code == 0, results[0].output
    assert 'waiting for it to finish' in results[0].output
