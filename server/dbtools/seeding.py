"""`flask seed`: the lesson's rows, or many generated ones, at whatever revision the database is.

The department table is `department` or `departments` and its place column `address` or
`location`, depending on the revision; the snapshot says which exist right now. Generated rows
are made by the database itself (a recursive CTE feeding INSERT … SELECT), so a million rows
never pass through Python. SQLAlchemy writes that SQL for each dialect.
"""

import sqlalchemy as sa

from dbtools import mysql, snapshot

EMPLOYEES = [('Kai Uri', 89000), ('Alena Lee', 125000)]
DEPARTMENTS = [('Payroll', 'Building A, 4th Floor'), ('Human Resources', 'Building C, 1st Floor')]
CHUNK = 50_000


def lesson_tables(connection):
    """{'employees': (table, value column), 'departments': (table, place column)} as they exist."""
    snap = snapshot.take(connection, row_limit=0)
    found = {}
    if snap.table('employees') is not None:
        found['employees'] = ('employees', 'salary')
    for name in ('departments', 'department'):
        table = snap.table(name)
        if table is not None:
            place = 'location' if table.column('location') else 'address'
            found['departments'] = (name, place)
            break
    return found


def seed_lesson(connection):
    """Insert the lesson's rows that are not there yet; return {table: rows added}."""
    tables = lesson_tables(connection)
    rows = {'employees': EMPLOYEES, 'departments': DEPARTMENTS}
    added = {}
    for kind, (name, second) in tables.items():
        table = sa.table(name, sa.column('name'), sa.column(second))
        present = set(connection.scalars(sa.select(table.c.name)))
        new = [{'name': n, second: v} for n, v in rows[kind] if n not in present]
        if new:
            connection.execute(table.insert(), new)
        added[name] = len(new)
    return added


def seed_generated(connection, count, tables=None, progress=lambda n: None):
    """Insert `count` generated rows into each lesson table present; return {table: count}.

    `tables` is lesson_tables(connection), when the caller has it already.
    """
    tables = tables or lesson_tables(connection)
    if mysql.is_mysql(connection):
        # Their recursive CTEs stop at 1,000 rows by default; a chunk needs more.
        limit = (
            'max_recursive_iterations'
            if connection.dialect.is_mariadb
            else 'cte_max_recursion_depth'
        )
        connection.exec_driver_sql(f'SET SESSION {limit} = {CHUNK + 1}')
    for kind, (name, second) in tables.items():
        table = sa.table(name, sa.column('name'), sa.column(second))
        start = connection.scalar(sa.select(sa.func.count()).select_from(table))
        for first in range(start + 1, start + count + 1, CHUNK):
            last = min(first + CHUNK - 1, start + count)
            connection.execute(_generate(kind, table, second), {'first': first, 'last': last})
            progress(last - first + 1)
    return {name: count for name, _ in tables.values()}


def _generate(kind, table, second):
    """INSERT … SELECT over numbers :first..:last, written by SQLAlchemy for each dialect
    (`||` is OR on MySQL, and its CAST knows no BIGINT)."""
    first = sa.cast(sa.bindparam('first'), sa.BigInteger)
    seq = sa.select(first.label('n')).cte('seq', recursive=True)
    last = sa.cast(sa.bindparam('last'), sa.BigInteger)
    seq = seq.union_all(sa.select(seq.c.n + 1).where(seq.c.n < last))
    n = seq.c.n

    if kind == 'employees':
        values = [_concat('Employee ', n), 40000 + (n * 7919) % 100000]
    else:
        values = [_concat('Department ', n), _concat('Building ', n % 26, ', Floor ', n % 9 + 1)]
    return sa.insert(table).from_select(['name', second], sa.select(*values))


def _concat(*parts):
    """Text and numbers joined in SQL: `||` or concat(), whichever the dialect uses."""
    joined = sa.literal(parts[0], sa.String)
    for part in parts[1:]:
        value = sa.cast(part, sa.String) if isinstance(part, sa.ColumnElement) else part
        joined = joined + value
    return joined
