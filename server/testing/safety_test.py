"""The safety nets work with Flask-Migrate's stock env.py too (dbtools/safety.py).

A student who runs `flask db init` again gets the template's env.py. Atomic revisions, rename
warnings and explained errors must all survive that; only `flask db rehearse`, which needs
env.py to use its connection, refuses, and says why.
"""

import pytest
from renames_test import DEPARTMENT, EMPLOYEE, migrate_in_copy

from chain import Chain, copy_migrations
from dbtools import lesson
from models import db

# The template calls Flask-SQLAlchemy's deprecated db.get_engine(); that is the student's file.
pytestmark = pytest.mark.filterwarnings('ignore::DeprecationWarning:env_py')

# Real work, then a Python error that is not a RuntimeError.
FAILING = "op.rename_table('employees', 'staff')\n1 / 0"


@pytest.fixture
def stock(make_app, tmp_path):
    """The lesson's chain plus a failing fifth revision, under the stock env.py."""
    head = Chain(make_app()).revisions[-1]
    migrations = copy_migrations(tmp_path, ('fa11ed000005', head, FAILING, 'pass'), stock_env=True)
    return Chain(make_app(MIGRATIONS_DIR=migrations))


def test_upgrade_and_downgrade_work_with_the_stock_env(stock):
    runner = stock.app.test_cli_runner()
    result = runner.invoke(args=['db', 'upgrade', stock.rev(4)])
    assert result.exit_code == 0, result.output
    assert stock.snapshot().revision == (stock.rev(4),)
    result = runner.invoke(args=['db', 'downgrade', '-1'])
    assert result.exit_code == 0, result.output
    assert stock.snapshot().revision == (stock.rev(3),)


def test_a_failing_revision_is_rolled_back_and_named_with_the_stock_env(stock):
    stock.climb(4)
    before = stock.state()
    result = stock.app.test_cli_runner().invoke(args=['db', 'upgrade'])
    assert result.exit_code == 1
    # MySQL/MariaDB commit DDL at once: there the rename is undone instead (dbtools/undo.py).
    with stock.app.app_context():
        mysql = db.engine.dialect.name == 'mysql'
    back = (
        'MySQL/MariaDB had committed its DDL, so its operations were undone, newest first '
        "(op.rename_table('employees', 'staff')): the database is back at"
        if mysql
        else 'it was rolled back and the database is still at'
    )
    assert result.output.splitlines()[-2:] == [
        'Error: revision fa11ed000005 (extra revision fa11ed000005) failed in upgrade(): '
        f'ZeroDivisionError: division by zero; {back} {stock.rev(4)}',
        '  Hint: fix upgrade() in migrations/versions/fa11ed000005_extra.py, then run the '
        'command again',
    ]
    assert stock.state() == before, 'the failed revision left changes behind'


def test_rename_warnings_work_with_the_stock_env(chain, database_url, tmp_path):
    chain.upgrade(chain.rev(2))
    models = EMPLOYEE + DEPARTMENT.format(table='departments', place='address')
    _, result = migrate_in_copy(tmp_path, database_url, models, chain.revisions[:2], stock=True)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith('WARNING')]
    assert warnings == [f'WARNING: {lesson.TABLE_RENAME_WARNING}']


def test_rehearse_refuses_the_stock_env_and_changes_nothing(stock):
    stock.climb(2)
    before = stock.state()
    result = stock.app.test_cli_runner().invoke(args=['db', 'rehearse'])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        'Error: migrations/env.py does not use the connection `flask db rehearse` hands it (it '
        "looks like Flask-Migrate's stock template, written by `flask db init`), so a rehearsal "
        'would change the real database',
        "  Hint: restore the project's env.py: `git checkout -- migrations/env.py` in server/; "
        'every other command works with either',
    ]
    assert stock.state() == before, 'the database changed'
