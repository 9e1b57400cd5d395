"""`flask seed`: the lesson's rows, or many generated ones, at whatever revision the database is.

The department table is `department` or `departments` and its place column `address` or
`location`, depending on the revision; the snapshot says which exist right now. Generated rows
are made by the database itself (a recursive CTE feeding INSERT … SELECT), so a million rows
never pass through Python.
"""

import sqlalchemy as sa

from dbtools import snapshot

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
    quote = connection.dialect.identifier_preparer.quote
    for kind, (name, second) in tables.items():
        start = connection.scalar(sa.text(f'SELECT count(*) FROM {quote(name)}'))
        for first in range(start + 1, start + count + 1, CHUNK):
            last = min(first + CHUNK - 1, start + count)
            connection.execute(
                sa.text(_generate_sql(kind, quote(name), quote(second))),
                {'first': first, 'last': last},
            )
            progress(last - first + 1)
    return {name: count for name, _ in tables.values()}


def _generate_sql(kind, table, second):
    """INSERT … SELECT over numbers :first..:last; the same SQL runs on SQLite and PostgreSQL."""
    if kind == 'employees':
        values = "'Employee ' || n, 40000 + (n * 7919) % 100000"
    else:
        values = "'Department ' || n, 'Building ' || (n % 26) || ', Floor ' || (n % 9 + 1)"
    return (
        f'INSERT INTO {table} (name, {second}) '
        f'WITH RECURSIVE seq(n) AS (SELECT CAST(:first AS BIGINT) UNION ALL '
        f'SELECT n + 1 FROM seq WHERE n < CAST(:last AS BIGINT)) '
        f'SELECT {values} FROM seq'
    )
