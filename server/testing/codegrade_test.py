"""What CodeGrade runs: the student's own revisions and models.py, graded step by step.

Every test here grades server/migrations/ and server/models.py, the student's files, through
the checks in dbtools/lesson.py that `flask lesson check` runs too: by position in the chain
and by effect, never by revision ids, file names, messages or docstrings. With k of the four
steps written, the tests of steps 1..k pass and each later one fails with the one line
`flask lesson check` prints for it, which says what to do next. Warnings from the student's
files (a stock env.py, say) are not errors here (conftest.py).
"""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from chain import SERVER, app_for
from dbtools import lesson, seeding

MIGRATIONS = SERVER / 'migrations'
MODELS = SERVER / 'models.py'
_reports = {}


@pytest.fixture
def graded(backend, database_url):
    """The lesson's checks on the student's files, run once per backend."""
    if backend not in _reports:
        _reports[backend] = lesson.check(MIGRATIONS, MODELS, database_url)
    return _reports[backend]


@pytest.fixture
def student(database_url):
    """An app around the student's models.py and migrations, and that models module."""
    app, models = app_for(MODELS, MIGRATIONS, database_url, 'student_models')
    yield app, models
    with app.app_context():
        models.db.engine.dispose()


def passes(report, step, direction):
    """Fail with the check's one line unless `direction` of `step` is right."""
    line = report.step(step).failure(direction)
    if line:
        pytest.fail(line, pytrace=False)


def all_steps_done(report):
    """Whole-lesson tests need the four steps; otherwise fail with the first open one."""
    for step in report.steps:
        passes(report, step.number, 'upgrade')
        passes(report, step.number, 'downgrade')


def test_the_revisions_form_one_line_from_base(graded):
    """One head and no branches: two heads make `flask db upgrade` refuse to run. An empty
    chain earns nothing here: it fails with what step 1 needs."""
    _script, chain, problem = lesson.revision_chain(MIGRATIONS)
    if problem:
        pytest.fail(problem, pytrace=False)
    if not chain:
        passes(graded, 1, 'upgrade')


def test_step_1_creates_employees_and_keeps_its_2_rows(graded):
    passes(graded, 1, 'upgrade')


def test_step_1_downgrade_drops_employees(graded):
    passes(graded, 1, 'downgrade')


def test_step_2_adds_department_and_keeps_every_row(graded):
    passes(graded, 2, 'upgrade')


def test_step_2_downgrade_drops_department_and_keeps_the_employees(graded):
    passes(graded, 2, 'downgrade')


def test_step_3_renames_department_and_keeps_its_2_rows(graded):
    passes(graded, 3, 'upgrade')


def test_step_3_downgrade_renames_it_back_and_keeps_its_2_rows(graded):
    passes(graded, 3, 'downgrade')


def test_step_4_renames_address_to_location_and_keeps_its_values(graded):
    passes(graded, 4, 'upgrade')


def test_step_4_downgrade_renames_location_back_to_address(graded):
    passes(graded, 4, 'downgrade')


def test_models_py_matches_the_migrations_at_head(graded, student):
    """What `flask db check` proves: the models and the migrations describe the same schema."""
    all_steps_done(graded)
    app, models = student
    result = app.test_cli_runner().invoke(args=['db', 'upgrade'])
    assert result.exit_code == 0, result.output
    with app.app_context(), models.db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={'compare_type': True})
        diff = compare_metadata(context, models.db.metadata)
    assert diff == [], f'models.py and the migrations disagree at head: {diff}'


def test_the_lessons_shell_session_at_head(graded, student):
    """At head the models read the migrated rows with the lesson's __repr__s, and write."""
    all_steps_done(graded)
    app, models = student
    assert app.test_cli_runner().invoke(args=['db', 'upgrade']).exit_code == 0
    Employee, Department, db = models.Employee, models.Department, models.db
    with app.app_context():
        with db.engine.begin() as connection:
            seeding.seed_lesson(connection)
        assert [repr(e) for e in Employee.query.order_by(Employee.id)] == [
            '<Employee 1, Kai Uri, 89000>',
            '<Employee 2, Alena Lee, 125000>',
        ]
        assert [repr(d) for d in Department.query.order_by(Department.id)] == [
            '<Department 1, Payroll, Building A, 4th Floor>',
            '<Department 2, Human Resources, Building C, 1st Floor>',
        ]
        db.session.add(Department(name='Legal', location='Building B, 2nd Floor'))
        db.session.commit()
        assert Department.query.filter_by(name='Legal').one().id == 3


def test_flask_db_upgrade_and_downgrade_base_from_the_command_line(graded, student):
    """The student's path through click and their own env.py: up to head, down to base (once
    there is a first revision to run)."""
    passes(graded, 1, 'upgrade')
    app, models = student
    runner = app.test_cli_runner()
    result = runner.invoke(args=['db', 'upgrade'])
    assert result.exit_code == 0, f'flask db upgrade failed: {result.output}'
    result = runner.invoke(args=['db', 'downgrade', 'base'])
    assert result.exit_code == 0, f'flask db downgrade base failed: {result.output}'
    with app.app_context(), models.db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() is None, 'downgrade base should reach base'
