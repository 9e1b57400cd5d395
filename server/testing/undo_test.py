"""A failed revision is undone on MySQL/MariaDB, whose DDL commits itself (dbtools/undo.py).

Every test runs on each backend. On SQLite and PostgreSQL the revision's transaction already
takes everything back and undoing() stays out of the way; on MySQL/MariaDB it reverses what
the revision applied. Either way the database must end exactly as it was before the revision,
or, where an operation cannot be reversed, as the message says.
"""

import pytest
import sqlalchemy as sa

from chain import Chain, copy_migrations, rows, tables
from dbtools import errors, lesson, mysql
from models import db

UNDOABLE = """
    op.rename_table('employees', 'staff')
    op.alter_column('departments', 'location', new_column_name='place',
                    existing_type=sa.String())
    op.add_column('departments', sa.Column('budget', sa.Integer()))
    op.create_table('projects', sa.Column('id', sa.Integer(), primary_key=True))
    op.create_index('ix_departments_name', 'departments', ['name'])
    op.execute("INSERT INTO departments (name) VALUES ('Ghost')")
    raise RuntimeError('injected failure after real work')
"""
DROPS_A_COLUMN = """
    op.rename_table('employees', 'staff')
    op.drop_column('staff', 'salary')
    op.add_column('departments', sa.Column('budget', sa.Integer()))
    raise RuntimeError('injected failure after real work')
"""
RAW_DDL = """
    op.execute('ALTER TABLE employees ADD COLUMN bonus INTEGER')
    op.add_column('departments', sa.Column('budget', sa.Integer()))
    raise RuntimeError('injected failure after real work')
"""
BATCH_THEN_FAIL = """
    with op.batch_alter_table('departments') as batch_op:
        batch_op.alter_column('location', new_column_name='place', existing_type=sa.String())
        batch_op.add_column(sa.Column('budget', sa.Integer()))
    raise RuntimeError('injected failure after real work')
"""
FAIL_INSIDE_BATCH = """
    op.rename_table('employees', 'staff')
    with op.batch_alter_table('departments') as batch_op:
        batch_op.add_column(sa.Column('budget', sa.Integer()))
        raise RuntimeError('injected failure after real work')
"""
FAILED = (
    'revision fa11ed000005 (extra revision fa11ed000005) failed in upgrade(): '
    'RuntimeError: injected failure after real work'
)
NO_EXISTING_TYPE = """
    op.alter_column('departments', 'location', new_column_name='place')
"""


def faulty_chain(make_app, tmp_path, body):
    """The lesson's chain plus a fifth revision with `body` as its upgrade()."""
    head = Chain(make_app()).revisions[-1]
    return Chain(
        make_app(MIGRATIONS_DIR=copy_migrations(tmp_path, ('fa11ed000005', head, body, '')))
    )


def on_mysql(chain):
    """Whether the chain's database is MySQL/MariaDB."""
    with chain.app.app_context():
        return mysql.is_mysql(db.engine)


def undo_failure(chain):
    """Upgrade into the failing revision from revision 4. On MySQL/MariaDB: the Explained error
    the undo raises. Elsewhere None, once the transaction is seen to have taken all back."""
    chain.climb(4)
    before = chain.state()
    if not on_mysql(chain):
        with pytest.raises(RuntimeError, match='injected failure'):
            chain.upgrade()
        assert chain.state() == before, 'the transaction should have taken it all back'
        return None
    with pytest.raises(errors.Explained) as failure:
        chain.upgrade()
    return failure.value


def test_every_undoable_operation_is_undone(make_app, tmp_path):
    """Renames, additions, an index and rows: all taken back, the revision says what."""
    chain = faulty_chain(make_app, tmp_path, UNDOABLE)
    chain.climb(4)
    before = chain.state()
    expected = errors.Explained if on_mysql(chain) else RuntimeError
    with pytest.raises(expected) as failure:
        chain.upgrade()
    assert chain.state() == before, 'the failed revision left changes behind'
    if on_mysql(chain):
        assert failure.value.what == (
            f'{FAILED}; MySQL/MariaDB had committed its DDL, so its operations were undone, '
            "newest first (op.create_index('ix_departments_name', 'departments'), "
            "op.create_table('projects'), op.add_column('departments', 'budget'), "
            "op.alter_column('departments', 'location', new_column_name='place'), "
            f"op.rename_table('employees', 'staff')): the database is back at {chain.rev(4)}"
        )
        assert failure.value.hint == (
            'fix upgrade() in migrations/versions/fa11ed000005_extra.py, then run the command again'
        )


def test_a_multi_step_upgrade_stands_at_the_last_revision_that_worked(make_app, tmp_path):
    """Steps 3 and 4 stay applied; only the failed fifth is undone."""
    chain = faulty_chain(make_app, tmp_path, UNDOABLE)
    chain.climb(2)
    with pytest.raises((errors.Explained, RuntimeError), match='injected failure'):
        chain.upgrade()
    snap = chain.snapshot()
    assert snap.revision == (chain.rev(4),), 'alembic_version should name revision 4'
    assert tables(snap) == lesson.SCHEMAS[4], 'revision 4 schema expected after the failure'
    assert rows(snap) == lesson.ROWS[4], 'rows of revision 4 expected after the failure'


def test_a_dropped_column_stops_the_undo_and_says_what_was_lost(make_app, tmp_path):
    """What came after the drop is undone; the drop and what came before it are named."""
    chain = faulty_chain(make_app, tmp_path, DROPS_A_COLUMN)
    failure = undo_failure(chain)
    if failure is None:
        return
    assert failure.what == (
        f"{FAILED}; op.drop_column('staff', 'salary') had been applied and cannot be undone "
        "(2 values were lost with the column); undone after it: op.add_column('departments', "
        "'budget'); still applied before it: op.rename_table('employees', 'staff'); "
        f'alembic_version still says {chain.rev(4)}'
    )
    assert failure.hint.startswith('MySQL/MariaDB commit each DDL statement at once')
    snap = chain.snapshot()
    assert tables(snap) == {
        'departments': lesson.SCHEMAS[4]['departments'],
        'staff': lesson.SCHEMAS[4]['employees'][:2],
    }, 'exactly the drop and the rename before it should remain'


def test_raw_ddl_cannot_be_undone_and_is_named(make_app, tmp_path):
    """op.execute of DDL committed itself: the undo stops there and quotes the SQL."""
    chain = faulty_chain(make_app, tmp_path, RAW_DDL)
    failure = undo_failure(chain)
    if failure is None:
        return
    assert failure.what == (
        f"{FAILED}; op.execute('ALTER TABLE employees ADD COLUMN bonus INTEGER') had been "
        'applied and cannot be undone (raw '
        "SQL: what it changed is not known); undone after it: op.add_column('departments', "
        f"'budget'); alembic_version still says {chain.rev(4)}"
    )
    columns = [c[0] for c in tables(chain.snapshot())['employees']]
    assert columns == ['id', 'name', 'salary', 'bonus'], 'only the raw DDL should remain'


def test_a_first_revision_that_fails_leaves_no_alembic_version(app, chain):
    """Tables from db.create_all(): revision 1 fails, and alembic_version goes again."""
    with app.app_context():
        db.create_all()
    before = chain.state()
    with pytest.raises(sa.exc.DBAPIError, match='already exist'):
        chain.upgrade()
    assert chain.state() == before, 'alembic_version (or anything else) was left behind'


def test_a_rename_without_existing_type_is_explained(make_app, tmp_path):
    """On MySQL that is one line and a hint; elsewhere the rename simply works."""
    chain = faulty_chain(make_app, tmp_path, NO_EXISTING_TYPE)
    chain.climb(4)
    before = chain.state()
    if not on_mysql(chain):
        chain.upgrade()
        assert [c[0] for c in tables(chain.snapshot())['departments']][-1] == 'place'
        return
    with pytest.raises(errors.Explained) as failure:
        chain.upgrade()
    assert str(failure.value) == (
        'revision fa11ed000005 (extra revision fa11ed000005) failed in upgrade(): '
        'on MySQL and MariaDB, renaming or changing a column restates its whole definition, '
        'so op.alter_column needs the column type it has now\n'
        '  Hint: add existing_type= to that op.alter_column, e.g. existing_type=sa.String() '
        '(and existing_nullable=False for a NOT NULL column), then run the command again'
    )
    assert chain.state() == before, 'the database changed'


@pytest.mark.parametrize(
    'body, undone',
    [
        (
            BATCH_THEN_FAIL,
            "op.add_column('departments', 'budget'), "
            "op.alter_column('departments', 'location', new_column_name='place')",
        ),
        (FAIL_INSIDE_BATCH, "op.rename_table('employees', 'staff')"),
    ],
    ids=['after the block', 'inside the block'],
)
def test_batch_mode_is_undone_as_far_as_it_was_applied(make_app, tmp_path, body, undone):
    """Batch mode applies its queue when the block ends: only what reached the database is
    undone (Flask-Migrate's autogenerate writes batch mode by default)."""
    chain = faulty_chain(make_app, tmp_path, body)
    chain.climb(4)
    before = chain.state()
    with pytest.raises((errors.Explained, RuntimeError)) as failure:
        chain.upgrade()
    assert chain.state() == before, 'the failed revision left changes behind'
    if on_mysql(chain):
        assert f'undone, newest first ({undone}):' in failure.value.what
