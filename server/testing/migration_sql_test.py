"""Each revision's code and SQL: `flask db sql` and the viewer's history (migration_sql.py)."""

import hashlib
import os

import pytest

from chain import Chain, copy_migrations
from dbtools import lesson
from models import db

STEPS = [1, 2, 3, 4]


def dialect(app):
    """The database's dialect name: 'sqlite', 'postgresql', 'mysql'."""
    with app.app_context():
        return db.engine.dialect.name


def sql_output(runner, *args):
    """`flask db sql ...`: (exit code, SQL lines without the header comment, header, stderr)."""
    result = runner.invoke(args=['db', 'sql', *args])
    header, *body = result.stdout.splitlines() or ['']
    return result.exit_code, '\n'.join(body), header, result.stderr


@pytest.mark.parametrize('down', [False, True], ids=['upgrade', 'downgrade'])
@pytest.mark.parametrize('step', STEPS)
def test_each_revision_shows_the_sql_it_runs_here(app, chain, runner, step, down):
    expected = lesson.SQL[dialect(app)][step][down]
    args = [chain.rev(step), '--down'] if down else [chain.rev(step)]
    status, sql, header, _ = sql_output(runner, *args)
    assert (status, sql) == (0, expected), f'revision {step}, {"down" if down else "up"}grade'
    parent = chain.rev(step - 1)
    step_text = f'{chain.rev(step)} -> {parent}' if down else f'{parent} -> {chain.rev(step)}'
    assert header.startswith(f'-- {"downgrade" if down else "upgrade"} {step_text} (')
    page = runner.app.test_client().get('/schema.json').get_json()
    shown = page['history'][step]['downgrade' if down else 'upgrade']
    assert (shown['sql'], shown['error']) == (expected, None), f'revision {step}: /schema.json'
    assert shown['source'].startswith('def downgrade():' if down else 'def upgrade():')


def test_rendering_changes_nothing_not_even_a_byte_of_a_sqlite_file(app, chain, runner, tmp_path):
    chain.climb(3)
    database = tmp_path / 'lesson.db'
    before = chain.state(), database.exists() and hashlib.sha256(database.read_bytes()).digest()
    for step in STEPS:
        for args in ([chain.rev(step)], [chain.rev(step), '--down']):
            assert sql_output(runner, *args)[0] == 0, f'revision {step}: {args}'
    assert sql_output(runner)[0] == 0 and sql_output(runner, '--down')[0] == 0
    assert app.test_client().get('/').status_code == 200
    after = chain.state(), database.exists() and hashlib.sha256(database.read_bytes()).digest()
    assert after == before


@pytest.mark.parametrize('step', [0, 1, 2, 3])
def test_by_default_it_is_the_next_pending_revision(app, chain, runner, step):
    chain.climb(step)
    status, sql, header, _ = sql_output(runner)
    assert status == 0, f'at revision {step}'
    assert sql == lesson.SQL[dialect(app)][step + 1][0], f'at revision {step}'
    assert f'-> {chain.rev(step + 1)} (' in header


@pytest.mark.parametrize('step', [1, 2, 3, 4])
def test_down_by_default_is_the_current_revision(app, chain, runner, step):
    chain.climb(step)
    status, sql, header, _ = sql_output(runner, '--down')
    assert (status, sql) == (0, lesson.SQL[dialect(app)][step][1]), f'at revision {step}'
    assert header.startswith(f'-- downgrade {chain.rev(step)} -> {chain.rev(step - 1)} (')


def test_at_head_it_says_nothing_is_pending(chain, runner):
    chain.upgrade('head')
    result = runner.invoke(args=['db', 'sql'])
    assert (result.exit_code, result.output) == (
        0,
        'The database is at head: nothing is pending.\n',
    )


def test_at_base_there_is_nothing_to_downgrade(runner):
    result = runner.invoke(args=['db', 'sql', '--down'])
    assert (result.exit_code, result.output) == (
        0,
        'The database is at base: there is nothing to downgrade.\n',
    )


def test_an_unknown_revision_is_one_line_and_a_hint(runner):
    status, sql, header, stderr = sql_output(runner, 'abc123')
    assert (status, header, sql) == (1, '', '')
    assert stderr == (
        "Error: there is no revision 'abc123'\n"
        '  Hint: `flask db history` lists the ids (a unique prefix is enough); head works too\n'
    )


def test_a_students_own_revision_is_rendered_too(make_app, chain, tmp_path):
    add_email = "op.add_column('employees', sa.Column('email', sa.String()))"
    drop_email = "op.drop_column('employees', 'email')"
    folder = copy_migrations(tmp_path, ('a1b2c3d4e5f6', chain.rev(4), add_email, drop_email))
    app = make_app(MIGRATIONS_DIR=folder)
    Chain(app).upgrade(chain.rev(4))
    runner = app.test_cli_runner()
    # MySQL/MariaDB need a length: there a String without one is VARCHAR(255) (dbtools/mysql.py).
    varchar = 'VARCHAR(255)' if dialect(app) == 'mysql' else 'VARCHAR'
    add = f'ALTER TABLE employees ADD COLUMN email {varchar};'
    assert sql_output(runner)[:2] == (0, add)
    assert sql_output(runner, 'a1b2')[:2] == (0, add)
    assert sql_output(runner, 'a1b2', '--down')[:2] == (
        0,
        'ALTER TABLE employees DROP COLUMN email;',
    )


BATCH_DROP = """
with op.batch_alter_table('employees') as batch_op:
    batch_op.drop_column('salary')
"""


def test_a_batch_copy_that_needs_the_live_table_is_explained(make_app, chain, tmp_path):
    """Offline mode cannot read the table that SQLite's batch mode copies; PostgreSQL
    needs no copy."""
    folder = copy_migrations(tmp_path, ('a1b2c3d4e5f6', chain.rev(4), BATCH_DROP, ''))
    app = make_app(MIGRATIONS_DIR=folder)
    runner = app.test_cli_runner()
    status, sql, _, stderr = sql_output(runner, 'a1b2c3d4e5f6')
    if dialect(app) != 'sqlite':
        assert (status, sql, stderr) == (0, 'ALTER TABLE employees DROP COLUMN salary;', '')
        return
    why = (
        'batch mode on this database copies the table and needs its live definition, which '
        'offline rendering does not read (pass copy_from= to batch_alter_table)'
    )
    assert (status, sql) == (1, '')
    assert stderr == (
        f'Error: no SQL for revision a1b2c3d4e5f6: {why}\n'
        '  Hint: `flask db rehearse` runs it on your data inside a transaction and keeps '
        'nothing\n'
    )
    shown = app.test_client().get('/schema.json').get_json()['history'][-1]['upgrade']
    assert (shown['sql'], shown['error']) == (None, why)
    assert why in app.test_client().get('/').get_data(as_text=True)


def test_an_edited_revision_is_rendered_again(make_app, chain, tmp_path):
    folder = copy_migrations(
        tmp_path, ('a1b2c3d4e5f6', chain.rev(4), 'op.drop_table("employees")', '')
    )
    app = make_app(MIGRATIONS_DIR=folder)
    runner = app.test_cli_runner()
    assert sql_output(runner, 'a1b2c3d4e5f6')[1] == 'DROP TABLE employees;'
    path = folder / 'versions' / 'a1b2c3d4e5f6_extra.py'
    path.write_text(
        path.read_text().replace('op.drop_table("employees")', 'op.drop_table("departments")')
    )
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert sql_output(runner, 'a1b2c3d4e5f6')[1] == 'DROP TABLE departments;'


def test_a_merge_shows_only_its_own_statements(make_app, chain, tmp_path):
    """Rendering starts from one parent, so Alembic also renders the other branch first."""
    folder = copy_migrations(
        tmp_path,
        ('a1a1a1a1a1a1', chain.rev(4), "op.execute('SELECT 1')", ''),
        ('b2b2b2b2b2b2', chain.rev(4), "op.execute('SELECT 2')", ''),
        ('c3c3c3c3c3c3', ('a1a1a1a1a1a1', 'b2b2b2b2b2b2'), "op.execute('SELECT 3')", ''),
    )
    runner = make_app(MIGRATIONS_DIR=folder).test_cli_runner()
    status, sql, header, _ = sql_output(runner, 'c3c3c3c3c3c3')
    assert (status, sql) == (0, 'SELECT 3;')
    assert header.startswith('-- upgrade a1a1a1a1a1a1, b2b2b2b2b2b2 -> c3c3c3c3c3c3 (extra')
