"""The lesson's migrations, proved state by state: what CodeGrade runs on a submission.

Revisions are found by walking the chain, so a student's own ids and file names pass as long
as the four revisions do what the lesson asks.
"""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import lesson
from chain import losses, rows, tables
from models import Department, Employee, db

STEPS = [1, 2, 3, 4]


def test_chain_is_four_revisions_in_one_line(chain):
    """One head and no branches: two heads make `flask db upgrade` refuse to run."""
    assert len(chain.revisions) == 4, f'expected 4 revisions, found {chain.revisions}'
    assert chain.script.get_heads() == [chain.revisions[-1]], 'expected exactly one head'
    for parent, child in zip([None] + chain.revisions, chain.revisions):
        down = chain.script.get_revision(child).down_revision
        assert down == parent, f'revision {child} should follow {parent}, not {down}'


@pytest.mark.parametrize('step', STEPS)
def test_upgrade_reaches_the_lessons_schema_and_keeps_the_rows(chain, step):
    """Each upgrade gives the lesson's exact tables, and no earlier row is lost on the way."""
    chain.climb(step - 1)
    before = chain.snapshot(fingerprints=True)
    chain.upgrade(chain.rev(step))
    after = chain.snapshot(fingerprints=True)
    what = f'revision {step} ({lesson.STEP_NAMES[step]})'
    lost = losses(before, after)
    assert not lost, f'{what} loses data ({"; ".join(lost)}); {lesson.FIXES.get(step, "keep it")}'
    assert tables(after) == lesson.SCHEMAS[step], f'{what}: wrong tables or columns'
    if step in lesson.SEED_AT:
        chain.seed()
    assert rows(chain.snapshot()) == lesson.ROWS[step], f'{what}: wrong rows'


@pytest.mark.parametrize('step', STEPS)
def test_downgrade_restores_the_previous_schema_and_rows(chain, step):
    """Each downgrade undoes its revision exactly, and keeps every row its tables still hold."""
    chain.climb(4)
    for above in range(4, step, -1):
        chain.downgrade(chain.rev(above - 1))
    chain.downgrade(chain.rev(step - 1))
    snap = chain.snapshot()
    what = f'downgrading revision {step} ({lesson.STEP_NAMES[step]})'
    assert snap.revision == ((chain.rev(step - 1),) if step > 1 else ()), what
    assert tables(snap) == lesson.SCHEMAS[step - 1], f'{what}: wrong tables or columns'
    # Downgrading "add department" (step 2) drops the department table and its rows with it.
    assert rows(snap) == lesson.ROWS[step - 1], f'{what}: rows changed'


def test_head_to_base_and_back_gives_the_same_schema(chain):
    """A full round trip must not leave anything behind or lose anything."""
    chain.upgrade('head')
    first = chain.snapshot().schema()
    chain.downgrade('base')
    assert tables(chain.snapshot()) == {}, 'downgrade to base should leave no lesson tables'
    chain.upgrade('head')
    assert chain.snapshot().schema() == first, 'head -> base -> head changed the schema'


def test_models_match_the_database_at_head(app, chain):
    """What `flask db check` proves: the models and the migrations describe the same schema."""
    chain.upgrade('head')
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={'compare_type': True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f'models.py and the migrations disagree at head: {diff}'


def test_flask_db_check_reports_no_changes_at_head(runner, chain):
    """The command itself, as a student would run it."""
    chain.upgrade('head')
    result = runner.invoke(args=['db', 'check'])
    assert result.exit_code == 0, result.output


def test_the_lessons_shell_session_at_head(app, chain):
    """At head the models read the migrated rows and write new ones."""
    chain.climb(4)
    with app.app_context():
        assert [repr(e) for e in Employee.query.order_by(Employee.id)] == [
            '<Employee 1, Kai Uri, 89000>', '<Employee 2, Alena Lee, 125000>']
        assert repr(db.session.get(Department, 1)) == \
            '<Department 1, Payroll, Building A, 4th Floor>'
        db.session.add(Department(name='Legal', location='Building B, 2nd Floor'))
        db.session.commit()
        assert Department.query.filter_by(name='Legal').one().id == 3


def test_flask_db_upgrade_and_downgrade_from_the_command_line(runner, chain):
    """The student's path: `flask db upgrade`, `flask db downgrade`, through click."""
    result = runner.invoke(args=['db', 'upgrade'])
    assert result.exit_code == 0, result.output
    assert chain.snapshot().revision == (chain.rev(4),), 'flask db upgrade should reach head'
    result = runner.invoke(args=['db', 'downgrade'])
    assert result.exit_code == 0, result.output
    assert tables(chain.snapshot()) == lesson.SCHEMAS[3], 'flask db downgrade should undo step 4'
    result = runner.invoke(args=['db', 'downgrade', 'base'])
    assert result.exit_code == 0, result.output
    assert tables(chain.snapshot()) == {}, 'flask db downgrade base should drop every table'


def test_flask_db_downgrade_minus_one_steps_back_one_revision(runner, chain):
    """Click would read -1 as an option; the lesson's relative form must work as written."""
    chain.upgrade('head')
    result = runner.invoke(args=['db', 'downgrade', '-1'])
    assert result.exit_code == 0, result.output
    assert chain.snapshot().revision == (chain.rev(3),), 'downgrade -1 should reach revision 3'
