"""The lesson in one place: each step's models, schema, rows and hint, and the checks on them.

Step 0 is base (empty), steps 1-4 are the four revisions in the lesson's order. `flask lesson
check`, `flask lesson start` and `solution` (codealong.py), the grading tests
(testing/codegrade_test.py), the tool tests and the README test all read these facts, and
`flask seed` shares its rows (seeding.py); nothing else restates them.

`check()` grades a migrations directory by position in its chain and by effect, never by
revision ids, file names, messages or docstrings. It runs the revisions itself on a scratch
database (env.py is not involved, so a stock env.py cannot change the grade): for each step it
upgrades, compares the data with rehearsal.compare, seeds the lesson's rows where the lesson
adds them, downgrades, compares again and upgrades once more for the next step.
"""

import contextlib
import importlib.util
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import sqlite
from sqlalchemy.pool import NullPool

from dbtools import errors, rehearsal, seeding, snapshot

STEPS = (1, 2, 3, 4)
STEP_NAMES = {
    1: 'initial migration',
    2: 'add department',
    3: 'rename department',
    4: 'rename address to location',
}
SEED_AT = (1, 2)

# (name, type, nullable, primary key)
ID = ('id', 'INTEGER', False, True)
NAME = ('name', 'VARCHAR', False, False)
EMPLOYEE_COLUMNS = [ID, NAME, ('salary', 'INTEGER', True, False)]
ADDRESS = [ID, NAME, ('address', 'VARCHAR', True, False)]
LOCATION = [ID, NAME, ('location', 'VARCHAR', True, False)]

SCHEMAS = {
    0: {},
    1: {'employees': EMPLOYEE_COLUMNS},
    2: {'employees': EMPLOYEE_COLUMNS, 'department': ADDRESS},
    3: {'employees': EMPLOYEE_COLUMNS, 'departments': ADDRESS},
    4: {'employees': EMPLOYEE_COLUMNS, 'departments': LOCATION},
}

_employees = [(i, name, salary) for i, (name, salary) in enumerate(seeding.EMPLOYEES, start=1)]
_departments = [(i, name, place) for i, (name, place) in enumerate(seeding.DEPARTMENTS, start=1)]
ROWS = {
    0: {},
    1: {'employees': _employees},
    # Below step 2 the department table does not exist: its rows are gone with it.
    2: {'employees': _employees, 'department': _departments},
    3: {'employees': _employees, 'departments': _departments},
    4: {'employees': _employees, 'departments': _departments},
}

# models.py as it is at each step; the README's code-along shows exactly these blocks.
_HEADER = 'from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n'
_EMPLOYEE = """

class Employee(db.Model):
    __tablename__ = 'employees'

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String, nullable=False)
    salary = db.Column(db.Integer)

    def __repr__(self):
        return f'<Employee {self.id}, {self.name}, {self.salary}>'
"""
_DEPARTMENT = """

class Department(db.Model):
    __tablename__ = 'TABLE'

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String, nullable=False)
    PLACE = db.Column(db.String)

    def __repr__(self):
        return f'<Department {self.id}, {self.name}, {self.PLACE}>'
"""


def _department(table, place):
    """The Department model with its table and place column named as at one step."""
    return _DEPARTMENT.replace('TABLE', table).replace('PLACE', place)


MODELS = {
    1: _HEADER + _EMPLOYEE,
    2: _HEADER + _EMPLOYEE + _department('department', 'address'),
    3: _HEADER + _EMPLOYEE + _department('departments', 'address'),
    4: _HEADER + _EMPLOYEE + _department('departments', 'location'),
}

# What to change in models.py for each step, and the hand edit autogenerate's draft needs.
MODEL_EDITS = {
    1: 'models.py holds the Employee model (table employees: id, name, salary)',
    2: 'add the Department model (table department: id, name, address) to models.py',
    3: "set Department's __tablename__ to 'departments' in models.py",
    4: "rename Department's column address to location in models.py (and in its __repr__)",
}
HAND_EDITS = {
    3: "replace autogenerate's create_table + drop_table with "
    "op.rename_table('department', 'departments') (and the reverse in downgrade())",
    4: "replace autogenerate's add_column + drop_column with op.alter_column('departments', "
    "'address', new_column_name='location', existing_type=sa.String()) (and the reverse in "
    'downgrade())',
}
# The hand edit each renaming step needs, quoted in failure messages.
FIXES = {
    3: 'rename it with op.rename_table',
    4: 'rename it with op.alter_column(..., new_column_name=...)',
}

# What `flask db migrate` prints for the lesson's two renames (quoted in the README too).
TABLE_RENAME_WARNING = (
    "table 'department' is dropped and 'departments' is created with the same columns: if it "
    "is a rename, use op.rename_table('department', 'departments') instead, or every row of "
    "'department' is lost"
)
COLUMN_RENAME_WARNING = (
    "column 'departments.address' is dropped and 'departments.location' is added with a "
    "compatible type: if it is a rename, use op.alter_column('departments', 'address', "
    "new_column_name='location', existing_type=sa.String()) instead, or every value of "
    "'address' is lost"
)

# What autogenerate wrote for the lesson's table rename: the trap the lesson is about.
AUTOGENERATED_RENAME = """
    op.create_table('departments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('address', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('id'))
    op.drop_table('department')
"""

# The SQL each revision runs, as Alembic's offline mode renders it (`flask db sql`), without
# the alembic_version bookkeeping: {dialect: {step: (upgrade, downgrade)}}.


def _create(table, third, id_type):
    """The CREATE TABLE of the lesson's first two revisions; `third` is the last column."""
    return (
        f'CREATE TABLE {table} (\n    id {id_type} NOT NULL,\n    name VARCHAR NOT NULL,\n'
        f'    {third},\n    PRIMARY KEY (id)\n);'
    )


# PostgreSQL makes an integer primary key SERIAL: a sequence named after the table.
SQL = {
    dialect: {
        1: (_create('employees', 'salary INTEGER', id_type), 'DROP TABLE employees;'),
        2: (_create('department', 'address VARCHAR', id_type), 'DROP TABLE department;'),
    }
    for dialect, id_type in (('sqlite', 'INTEGER'), ('postgresql', 'SERIAL'))
}
SQL['sqlite'] |= {
    3: (
        'ALTER TABLE department RENAME TO departments;',
        'ALTER TABLE departments RENAME TO department;',
    ),
    4: (
        'ALTER TABLE departments RENAME COLUMN address TO location;',
        'ALTER TABLE departments RENAME COLUMN location TO address;',
    ),
}
SQL['postgresql'] |= {
    3: (
        'ALTER TABLE department RENAME TO departments;\n'
        'ALTER INDEX department_pkey RENAME TO departments_pkey;\n'
        'ALTER SEQUENCE department_id_seq RENAME TO departments_id_seq;',
        'ALTER TABLE departments RENAME TO department;\n'
        'ALTER INDEX departments_pkey RENAME TO department_pkey;\n'
        'ALTER SEQUENCE departments_id_seq RENAME TO department_id_seq;',
    ),
    4: (
        'ALTER TABLE departments RENAME address TO location;',
        'ALTER TABLE departments RENAME location TO address;',
    ),
}

# MySQL/MariaDB: a String without a length becomes VARCHAR(255) (dbtools/mysql.py), the id is
# AUTO_INCREMENT, and a column is renamed by restating it (CHANGE), hence existing_type.
SQL['mysql'] = {
    1: (
        'CREATE TABLE employees (\n    id INTEGER NOT NULL AUTO_INCREMENT,\n'
        '    name VARCHAR(255) NOT NULL,\n    salary INTEGER,\n    PRIMARY KEY (id)\n);',
        'DROP TABLE employees;',
    ),
    2: (
        'CREATE TABLE department (\n    id INTEGER NOT NULL AUTO_INCREMENT,\n'
        '    name VARCHAR(255) NOT NULL,\n    address VARCHAR(255),\n    PRIMARY KEY (id)\n);',
        'DROP TABLE department;',
    ),
    3: SQL['sqlite'][3],
    4: (
        'ALTER TABLE departments CHANGE address location VARCHAR(255) NULL;',
        'ALTER TABLE departments CHANGE location address VARCHAR(255) NULL;',
    ),
}

# What autogenerate wrote for the column rename (batch mode, Flask-Migrate's default). Offline
# mode cannot read the table that batch mode copies on SQLite, so it is given its definition.
AUTOGENERATED_COLUMN_RENAME = """
    departments = sa.Table(
        'departments',
        sa.MetaData(),
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('address', sa.String()),
    )
    with op.batch_alter_table('departments', schema=None, copy_from=departments) as batch_op:
        batch_op.add_column(sa.Column('location', sa.String(), nullable=True))
        batch_op.drop_column('address')
"""

DONE, NOT_YET, WRONG = 'done', 'not yet', 'wrong'


@dataclass
class Step:
    """How one step of the lesson stands: its status, why, and what to do next."""

    number: int
    status: str = NOT_YET
    reason: str = ''
    todo: str = ''
    # None when that direction is right, else the reason it is not.
    upgrade: str | None = 'not written yet'
    downgrade: str | None = 'not written yet'

    @property
    def title(self):
        """'step 3 (rename department)'."""
        return f'step {self.number} ({STEP_NAMES[self.number]})'

    def failure(self, direction):
        """The one line a grading test fails with, or None when `direction` is right."""
        wrong = getattr(self, direction)
        if wrong is None:
            return None
        return f'{self.title}: {wrong} Next: {self.todo}'


@dataclass
class Report:
    """The four steps, plus notes that concern the whole lesson (its env.py, extra files)."""

    steps: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def done(self):
        """How many steps are right."""
        return sum(s.status == DONE for s in self.steps)

    def step(self, number):
        """The Step with that number."""
        return self.steps[number - 1]


def check(migrations, models=None, url=None):
    """Grade the revisions in `migrations` (and models.py at `models`) on a scratch database.

    `url` names an empty database to use; by default a SQLite file in a temporary directory.
    """
    migrations = Path(migrations)
    report = Report(steps=[Step(n) for n in STEPS])
    if is_stock_env(migrations / 'env.py'):
        report.notes.append(STOCK_ENV_NOTE)
    model_step = models_step(models) if models is not None else None
    script, chain, problem = revision_chain(migrations)
    if problem:
        report.notes.append(problem)
    with _scratch_engine(url) as engine:
        _walk(engine, script if chain else None, chain[: len(STEPS)], report)
    if len(chain) > len(STEPS):
        extra = ', '.join(chain[len(STEPS) :])
        report.notes.append(f'revisions after step 4 are not part of the lesson: {extra}')
    _next_actions(report, model_step, broken_chain=bool(problem))
    return report


def render(report):
    """The text `flask lesson check` prints, and its exit status (0 only when all is done)."""
    lines = [f'Note: {note}' for note in report.notes]
    lines += [''] if lines else []
    for step in report.steps:
        lines.append(f'{f"[{step.status}]":<10} step {step.number}: {STEP_NAMES[step.number]}')
        if step.status != DONE:
            lines += [f'{"":<10} {step.reason}'] if step.reason else []
            lines.append(f'{"":<10} Next: {step.todo}')
    done = report.done
    lines.append('')
    if done == len(STEPS):
        lines.append(f'{done}/{len(STEPS)} steps done: the code-along is complete.')
    else:
        lines.append(f'{done}/{len(STEPS)} steps done.')
    return '\n'.join(lines), 0 if done == len(STEPS) else 1


def own_database(connection, chain):
    """One line on the student's own database, which the check never touches: the step it
    stands at, and whether lesson rows went missing there (a trap that was applied)."""
    snap = snapshot.take(connection, row_limit=0)
    if not snap.revision:
        return 'Your own database is at base (empty): `flask db upgrade` applies your revisions.'
    revision = snap.revision[0]
    if revision not in chain:
        return f'Your own database is at revision {revision}, which no revision file has.'
    step = chain.index(revision) + 1
    line = f'Your own database is at step {step} ({revision})'
    if step < len(chain):
        line += f'; `flask db upgrade` applies the {len(chain) - step} newer revision(s)'
    missing = [
        f'{name}: {snap.table(name).row_count} of {len(rows)}'
        for name, rows in ROWS.get(step, {}).items()
        if snap.table(name) is not None and snap.table(name).row_count < len(rows)
    ]
    if missing:
        line += (
            f". It holds fewer of the lesson's rows than step {step} should "
            f'({", ".join(missing)}): if a revision dropped them, `flask db downgrade` to before '
            'it, fix it, then `flask seed` and `flask db upgrade`'
        )
    return line + '.'


def revision_chain(migrations):
    """(Alembic's ScriptDirectory, the revision ids from base to head, a problem line or None
    when the revisions cannot be read or do not form one line)."""
    try:
        script = ScriptDirectory(str(migrations))
        heads = script.get_heads()
        chain = [r.revision for r in reversed(list(script.walk_revisions()))]
    except Exception as exc:
        return None, [], f'migrations/versions cannot be read: {errors.first_line(exc)}'
    if len(heads) > 1:
        return (
            script,
            [],
            (
                f'migrations/versions has {len(heads)} heads ({", ".join(sorted(heads))}): two '
                'revisions follow the same one; keep one revision per step and delete the '
                'extra file'
            ),
        )
    return script, chain, None


def _walk(engine, script, chain, report):
    """Upgrade, check, downgrade, check and upgrade again, one step at a time."""
    for number, revision in enumerate(chain, start=1):
        step = report.step(number)
        below = chain[number - 2] if number > 1 else 'base'
        step.upgrade = _upgrade_check(engine, script, revision, number)
        if step.upgrade is None:
            step.downgrade = _downgrade_check(engine, script, below, number)
        else:
            step.downgrade = 'its upgrade must work first.'
        if step.upgrade or step.downgrade:
            step.status, step.reason = WRONG, step.upgrade or step.downgrade
            return
        try:
            _migrate(engine, script, revision, upgrade=True)
        except Exception as exc:
            step.status = WRONG
            step.reason = step.upgrade = (
                f'its upgrade fails after a downgrade: {errors.first_line(exc)}.'
            )
            return
        _seed(engine, number)
        step.status = DONE


def _upgrade_check(engine, script, revision, number):
    """None when upgrading to `revision` gives step `number`'s schema and keeps every row."""
    before = _snapshot(engine)
    try:
        _migrate(engine, script, revision, upgrade=True)
    except Exception as exc:
        return f'its upgrade fails: {errors.first_line(exc)}.'
    after = _snapshot(engine)
    lost = rehearsal.compare('', before, after).lost
    if lost:
        return (
            f"its upgrade loses data ({'; '.join(lost)}): that is autogenerate's drop + create, "
            f"the lesson's trap; {FIXES.get(number, 'keep the data')}."
        )
    wrong = _schema_difference(after, SCHEMAS[number])
    if wrong:
        return f'after its upgrade {wrong}.'
    _seed(engine, number)
    wrong = _rows_difference(_snapshot(engine), ROWS[number])
    return f'after its upgrade {wrong}.' if wrong else None


def _downgrade_check(engine, script, below, number):
    """None when downgrading to `below` gives step number-1's schema and rows back."""
    before = _snapshot(engine)
    try:
        _migrate(engine, script, below, upgrade=False)
    except Exception as exc:
        return f'its downgrade fails: {errors.first_line(exc)}.'
    after = _snapshot(engine)
    # Data lost is the lesson's point, and says more than the shape it leaves behind.
    lost = rehearsal.compare('', before, after).lost
    if lost and _rows_difference(after, ROWS[number - 1]):
        fix = FIXES.get(number, 'keep the data')
        return f'its downgrade loses data ({"; ".join(lost)}); {fix}.'
    wrong = _schema_difference(after, SCHEMAS[number - 1])
    if wrong:
        return f'after its downgrade {wrong}.'
    wrong = _rows_difference(after, ROWS[number - 1])
    return f'after its downgrade {wrong}.' if wrong else None


def _next_actions(report, model_step, broken_chain):
    """Fill in each step's reason and next action in the lesson's words."""
    first_open = next((s for s in report.steps if s.status != DONE), None)
    for step in report.steps:
        n = step.number
        if step.status == WRONG:
            step.todo = _fix_todo(n)
        elif step.status == NOT_YET and step is first_open and not broken_chain:
            if model_step is not None and model_step >= n:
                step.reason = f'models.py is ready for it, but no revision {n} is written yet.'
                step.todo = _migrate_todo(n)
            else:
                step.reason = f'no revision {n} is written yet.'
                step.todo = f'{MODEL_EDITS[n]} (README, code-along step {n}), then ' + (
                    _migrate_todo(n)
                )
            step.upgrade = step.downgrade = step.reason
        elif step.status == NOT_YET and broken_chain:
            step.upgrade = step.downgrade = 'the revisions cannot be graded as they are.'
            step.todo = 'fix them first (see the note above).'
        elif step.status == NOT_YET:
            step.todo = f'finish step {first_open.number} first.'
            step.upgrade = step.downgrade = f'it waits for step {first_open.number}.'
    last = report.steps[-1]
    if last.status == DONE and model_step is not None and model_step != 4:
        last.status = WRONG
        last.reason = last.upgrade = (
            "the migrations reach the lesson's last schema, but models.py does not match it."
        )
        last.todo = f'{MODEL_EDITS[4]}; `flask db check` then reports no changes.'


def _migrate_todo(n):
    """The commands for step n once models.py is edited."""
    hand_edit = f', {HAND_EDITS[n]}' if n in HAND_EDITS else ''
    return (
        f'run `flask db migrate -m "{STEP_NAMES[n]}"`, read the new file in '
        f'migrations/versions{hand_edit}, then run `flask db upgrade`.'
    )


def _fix_todo(n):
    """What to do about a wrong revision n."""
    if n in HAND_EDITS:
        return f'edit revision {n}: {HAND_EDITS[n]}; `flask lesson solution {n}` shows ours.'
    return f'compare revision {n} with `flask lesson solution {n}` and fix it.'


def models_step(path):
    """The lesson step whose schema models.py at `path` describes, or 0 if none."""
    name = f'lesson_models_{uuid.uuid4().hex}'
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        metadata = module.db.metadata
    except Exception:
        return 0
    dialect = sqlite.dialect()
    described = {
        table.name: [
            (c.name, c.type.compile(dialect=dialect), bool(c.nullable), c.primary_key)
            for c in table.columns
        ]
        for table in metadata.sorted_tables
    }
    return next((n for n in STEPS if SCHEMAS[n] == described), 0)


STOCK_ENV_NOTE = (
    "migrations/env.py is Flask-Migrate's stock template (from `flask db init`), not the "
    "project's: every command works with it except `flask db rehearse`. Restore the "
    "project's with `git checkout -- migrations/env.py` in server/."
)


def is_stock_env(path):
    """Whether env.py at `path` is Flask-Migrate's own template, as `flask db init` writes it."""
    import flask_migrate

    template = Path(flask_migrate.__file__).parent / 'templates' / 'flask' / 'env.py'
    try:
        return path.read_text().split() == template.read_text().split()
    except OSError:
        return False


def _migrate(engine, script, target, upgrade):
    """Run the revisions to `target` as `flask db upgrade/downgrade` would, without env.py."""

    def steps(revision, _context):
        """What alembic.command.upgrade/downgrade hand to run_migrations."""
        if upgrade:
            return script._upgrade_revs(target, revision)
        return script._downgrade_revs(target, revision)

    with (
        engine.connect() as connection,
        EnvironmentContext(Config(), script, fn=steps, destination_rev=target) as env,
    ):
        env.configure(connection=connection, transaction_per_migration=True)
        with env.begin_transaction():
            env.run_migrations()
        connection.commit()


def _snapshot(engine):
    """What the scratch database holds, with the fingerprints rehearsal compares."""
    with engine.connect() as connection:
        return snapshot.take(connection, fingerprints=True)


def _seed(engine, number):
    """Add the lesson's rows where the lesson adds them (after steps 1 and 2)."""
    if number in SEED_AT:
        with engine.begin() as connection:
            seeding.seed_lesson(connection)


def _schema_difference(snap, expected):
    """'table x is missing' and the like, or '' when the tables are the lesson's."""
    actual = {
        t.name: [(c.name, c.type, c.nullable, c.primary_key) for c in t.columns]
        for t in snap.tables
    }
    problems = [f"table '{t}' is missing" for t in expected if t not in actual]
    problems += [f"there is a table '{t}' the lesson lacks" for t in actual if t not in expected]
    problems += [
        f"table '{t}' has the columns ({_columns(actual[t])}) where the lesson has "
        f'({_columns(cols)})'
        for t, cols in expected.items()
        if t in actual and actual[t] != cols
    ]
    return '; '.join(problems)


def _columns(columns):
    """'id INTEGER PK, name VARCHAR NOT NULL, salary INTEGER'."""
    return ', '.join(
        ' '.join([name, kind] + (['PK'] if pk else ['NOT NULL'] if not nullable else []))
        for name, kind, nullable, pk in columns
    )


def _rows_difference(snap, expected):
    """ "table 'x' holds 1 row, the lesson's 2" and the like, or ''."""
    problems = []
    for table, rows in expected.items():
        if snap.table(table) is None:
            problems.append(f"table '{table}' is missing, with the lesson's {_count(rows)}")
            continue
        actual = list(snap.table(table).rows)
        if actual != rows:
            problems.append(
                f"table '{table}' holds {_count(actual)}, not the lesson's {_count(rows)} "
                f'({actual} instead of {rows})'
            )
    return '; '.join(problems)


def _count(rows):
    """'1 row' or 'n rows'."""
    return f'{len(rows)} row' if len(rows) == 1 else f'{len(rows)} rows'


@contextlib.contextmanager
def _scratch_engine(url):
    """An engine on `url`, or on a new SQLite file that is deleted afterwards."""
    with contextlib.ExitStack() as stack:
        if url is None:
            # Memory-backed /dev/shm where there is one: a scratch file need not reach the disk.
            where = '/dev/shm' if os.access('/dev/shm', os.W_OK) else None
            folder = stack.enter_context(
                tempfile.TemporaryDirectory(prefix='lesson-check-', dir=where)
            )
            url = f'sqlite:///{Path(folder) / "check.db"}'
        engine = sa.create_engine(url, poolclass=NullPool)
        stack.callback(engine.dispose)
        yield engine
