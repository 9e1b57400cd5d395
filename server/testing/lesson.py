"""The lesson's facts in one place: the schema after each revision and the rows it holds.

Step 0 is base (empty), steps 1-4 are the four revisions in the lesson's order. The rows are
the lesson's sample rows (shared with `flask seed`); the tests insert the employees at step 1
and the departments at step 2, where the lesson adds them.
"""
from dbtools.seeding import DEPARTMENTS, EMPLOYEES

STEP_NAMES = {1: 'initial', 2: 'add department', 3: 'rename department',
              4: 'rename address to location'}
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

_employees = [(i, name, salary) for i, (name, salary) in enumerate(EMPLOYEES, start=1)]
_departments = [(i, name, place) for i, (name, place) in enumerate(DEPARTMENTS, start=1)]
ROWS = {
    0: {},
    1: {'employees': _employees},
    # Below step 2 the department table does not exist: its rows are gone with it.
    2: {'employees': _employees, 'department': _departments},
    3: {'employees': _employees, 'departments': _departments},
    4: {'employees': _employees, 'departments': _departments},
}

# The hand edit each renaming step needs, quoted in failure messages.
FIXES = {3: 'rename it with op.rename_table', 4: 'rename it with op.alter_column(..., '
         'new_column_name=...)'}

# What `flask db migrate` prints for the lesson's two renames (quoted in the README too).
TABLE_RENAME_WARNING = (
    "table 'department' is dropped and 'departments' is created with the same columns: if it "
    "is a rename, use op.rename_table('department', 'departments') instead, or every row of "
    "'department' is lost")
COLUMN_RENAME_WARNING = (
    "column 'departments.address' is dropped and 'departments.location' is added with a "
    "compatible type: if it is a rename, use op.alter_column('departments', 'address', "
    "new_column_name='location') instead, or every value of 'address' is lost")
