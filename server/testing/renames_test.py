"""`flask db migrate` warns where autogenerate turns a rename into data loss (dbtools/renames.py).

Each case edits models.py in a scratch copy of the project and runs `flask db migrate` there
through click, in process, then checks the exact warnings and the comment that lands in the
generated upgrade().
"""

import shutil

import pytest

from chain import STOCK_ENV, app_for, copy_project
from dbtools import lesson

EMPLOYEE = """
class Employee(db.Model):
    __tablename__ = 'employees'
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String, nullable=False)
    salary = db.Column(db.Integer)
"""
DEPARTMENT = """
class Department(db.Model):
    __tablename__ = '{table}'
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String, nullable=False)
    {place} = db.Column(db.String)
"""
EDITED_EMPLOYEE = """
class Employee(db.Model):
    __tablename__ = 'employees'
    id = db.Column(db.Integer, primary_key=True)
    full_name = db.Column(db.String, nullable=False)
    email = db.Column(db.String)
"""
PROJECT = """
class Project(db.Model):
    __tablename__ = 'projects'
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String)
"""

CASES = {
    # The lesson's step 3: the model's table is renamed, the database is at revision 2.
    'lesson rename table': (
        2,
        EMPLOYEE + DEPARTMENT.format(table='departments', place='address'),
        [lesson.TABLE_RENAME_WARNING],
    ),
    # The lesson's step 4: the model's column is renamed, the database is at revision 3.
    'lesson rename column': (
        3,
        EMPLOYEE + DEPARTMENT.format(table='departments', place='location'),
        [lesson.COLUMN_RENAME_WARNING],
    ),
    # At head: a table renamed, a column renamed, a column dropped and a column added.
    'mixed edit': (
        4,
        EDITED_EMPLOYEE + DEPARTMENT.format(table='divisions', place='location'),
        [
            "table 'departments' is dropped and 'divisions' is created with the same columns: "
            "if it is a rename, use op.rename_table('departments', 'divisions') instead, or "
            "every row of 'departments' is lost",
            "column 'employees.name' is dropped and 'employees.full_name' is added with a "
            "compatible type: if it is a rename, use op.alter_column('employees', 'name', "
            "new_column_name='full_name', existing_type=sa.String()) instead, or every value "
            "of 'name' is lost",
            "column 'employees.salary' is dropped: all its values will be lost",
        ],
    ),
    # Genuinely new things raise no alarm.
    'only additions': (
        4,
        EDITED_EMPLOYEE.replace('full_name', 'name').replace(
            'email = db.Column(db.String)',
            'salary = db.Column(db.Integer)\n    email = db.Column(db.String)',
        )
        + DEPARTMENT.format(table='departments', place='location')
        + PROJECT,
        [],
    ),
}


def migrate_in_copy(tmp_path, database_url, models, keep, stock=False):
    """Copy the project, keep `keep` revisions, write models.py, run `flask db migrate -m edit`
    (with Flask-Migrate's stock env.py if `stock`)."""
    project = copy_project(tmp_path)
    if stock:
        shutil.copy(STOCK_ENV, project / 'migrations' / 'env.py')
    for script in sorted((project / 'migrations' / 'versions').glob('*.py')):
        if script.name.split('_')[0] not in keep:
            script.unlink()
    (project / 'models.py').write_text(
        'from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n' + models
    )
    app, edited = app_for(
        project / 'models.py', project / 'migrations', database_url, f'models_{tmp_path.name}'
    )
    result = app.test_cli_runner().invoke(args=['db', 'migrate', '-m', 'edit'])
    with app.app_context():
        edited.db.engine.dispose()
    return project, result


@pytest.mark.parametrize('case', CASES)
def test_flask_db_migrate_warns_exactly_about_drops(chain, database_url, tmp_path, case):
    step, models, expected = CASES[case]
    chain.upgrade(chain.rev(step))
    project, result = migrate_in_copy(tmp_path, database_url, models, chain.revisions[:step])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith('WARNING')]
    assert sorted(warnings) == sorted(f'WARNING: {w}' for w in expected), f'{case}: warnings'

    (script,) = (project / 'migrations' / 'versions').glob('*_edit.py')
    upgrade = script.read_text().split('def upgrade():')[1].split('def downgrade():')[0]
    comments = ' '.join(
        line.strip().lstrip('#').strip()
        for line in upgrade.splitlines()
        if line.strip().startswith('#')
    )
    for warning in expected:
        assert f'- {warning}' in comments, f'{case}: missing from upgrade(): {warning}'
    assert ('REVIEW BEFORE UPGRADING' in comments) == bool(expected), f'{case}: note'


def test_no_model_change_writes_no_revision(chain, database_url, tmp_path):
    """Flask-Migrate's "no empty revision" behaviour is kept."""
    chain.upgrade('head')
    models = EMPLOYEE + DEPARTMENT.format(table='departments', place='location')
    project, result = migrate_in_copy(tmp_path, database_url, models, chain.revisions)
    assert result.exit_code == 0, result.output
    assert 'No changes in schema detected.' in result.stderr
    assert 'WARNING' not in result.stderr
    assert list((project / 'migrations' / 'versions').glob('*_edit.py')) == []
