"""`flask seed`: the lesson's rows at any revision, idempotent; `--rows N` in bulk."""

import pytest
import sqlalchemy as sa

from chain import rows
from dbtools import lesson, seeding
from models import db


@pytest.mark.parametrize(
    'step, added',
    [
        (1, ['employees: 2 rows added']),
        (2, ['employees: 2 rows added', 'department: 2 rows added']),
        (4, ['employees: 2 rows added', 'departments: 2 rows added']),
    ],
)
def test_seed_adds_the_lessons_rows_once(chain, runner, step, added):
    chain.climb(step, seed=False)
    first = runner.invoke(args=['seed'])
    assert (first.exit_code, first.output.splitlines()) == (0, added), f'revision {step}'
    again = runner.invoke(args=['seed'])
    assert again.output.splitlines() == [a.replace(' 2 rows', ' 0 rows') for a in added]
    assert rows(chain.snapshot()) == lesson.ROWS[step], f'revision {step}: rows'


def test_seed_before_any_migration_says_what_to_do(runner):
    result = runner.invoke(args=['seed'])
    assert (result.exit_code, result.output) == (
        0,
        'No lesson tables yet: run `flask db upgrade` first.\n',
    )


def test_seed_rows_generates_that_many_in_each_table(chain, runner):
    chain.climb(4)
    result = runner.invoke(args=['seed', '--rows', '1200'])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-2:] == [
        'employees: 1200 rows added',
        'departments: 1200 rows added',
    ]
    snap = chain.snapshot(row_limit=4)
    assert snap.table('employees').row_count == 1202
    assert snap.table('departments').row_count == 1202
    assert snap.table('employees').rows[2:] == (
        (3, 'Employee 3', 40000 + 3 * 7919 % 100000),
        (4, 'Employee 4', 40000 + 4 * 7919 % 100000),
    )
    assert snap.table('departments').rows[2] == (3, 'Department 3', 'Building 3, Floor 4')


def test_seed_rows_at_revision_two_uses_address(chain, runner):
    chain.climb(2, seed=False)
    assert runner.invoke(args=['seed', '--rows', '3']).exit_code == 0
    assert chain.snapshot().table('department').rows[-1] == (
        3,
        'Department 3',
        'Building 3, Floor 4',
    )


@pytest.mark.parametrize('bad', ['0', '-5', 'many'])
def test_seed_rows_must_be_a_positive_number(runner, bad):
    result = runner.invoke(args=['seed', '--rows', bad])
    assert result.exit_code == 2
    assert "Invalid value for '--rows'" in result.output


def test_generated_numbers_far_past_a_million_do_not_overflow(app, chain):
    """n * 7919 passes 2**31 at n = 271,183; PostgreSQL's INTEGER would overflow there."""
    chain.climb(4, seed=False)
    table = sa.table('employees', sa.column('name'), sa.column('salary'))
    insert = seeding._generate('employees', table, 'salary')
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(insert, {'first': 3_000_000, 'last': 3_000_001})
    assert chain.snapshot().table('employees').rows == (
        (1, 'Employee 3000000', 40000 + 3_000_000 * 7919 % 100000),
        (2, 'Employee 3000001', 40000 + 3_000_001 * 7919 % 100000),
    )
