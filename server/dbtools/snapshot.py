"""What the database holds right now.

This is the one reflection of the live database (never of the models) that the viewer page,
`/schema.json`, `flask schema`, `flask db rehearse`, `flask seed` and the tests all read, so
they can never disagree about a table, a column or a row.
"""

import contextlib
import json
import math
import re
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from dbtools import mysql

VERSION_TABLE = 'alembic_version'
# How much of one value the page, the JSON and `flask schema` show: enough to read, and
# 50 rows of huge values still make a small page.
CELL_CHARACTERS = 200
# Query parameters that carry a secret, such as ?password=... (psycopg, PyMySQL).
SECRET_PARAMETER = re.compile(r'([?&][^=&]*(?:pass|pwd|secret|token)[^=&]*=)[^&]*', re.IGNORECASE)


@dataclass(frozen=True)
class Column:
    """One column as the database describes it."""

    name: str
    type: str
    nullable: bool
    primary_key: bool
    default: str | None = None
    # (non-null count, total text length, smallest, largest): see fingerprint_sql().
    fingerprint: tuple | None = None


@dataclass(frozen=True)
class Table:
    """One table: its columns, its named objects, how many rows it has and the first few."""

    name: str
    columns: tuple[Column, ...]
    row_count: int
    rows: tuple[tuple, ...]
    # Named schema objects ('primary key', 'index', 'unique', 'foreign key', 'check').
    constraints: tuple[tuple, ...] = ()

    def column(self, name):
        """The column called `name`, or None."""
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Snapshot:
    """The recorded revision(s) and every table but Alembic's own."""

    revision: tuple[str, ...]
    tables: tuple[Table, ...]
    sequences: tuple[str, ...] = ()
    url: str = ''
    # False when there is no alembic_version table at all (db.create_all(), or a new database).
    versioned: bool = True

    def table(self, name):
        """The table called `name`, or None."""
        return next((t for t in self.tables if t.name == name), None)

    def schema(self):
        """The structure alone, comparable across databases: no rows, counts or fingerprints."""
        return {
            'tables': {
                t.name: {
                    'columns': [
                        (c.name, c.type, c.nullable, c.primary_key, c.default) for c in t.columns
                    ],
                    'constraints': sorted(t.constraints),
                }
                for t in self.tables
            },
            'sequences': list(self.sequences),
        }

    def to_dict(self):
        """Plain data for JSON: the schema, the counts and the first rows."""
        return {
            'revision': list(self.revision),
            'database': self.url,
            'tables': [
                {
                    'name': t.name,
                    'columns': [
                        {k: v for k, v in asdict(c).items() if k != 'fingerprint'}
                        for c in t.columns
                    ],
                    'row_count': t.row_count,
                    'rows': [[shown(v) for v in row] for row in t.rows],
                }
                for t in self.tables
            ],
        }


def take(connection, row_limit=50, fingerprints=False):
    """Reflect the live database through `connection` (inside its transaction, if any)."""
    inspector = sa.inspect(connection)
    all_names = inspector.get_table_names()
    names = sorted(n for n in all_names if n != VERSION_TABLE)
    tables = tuple(_table(connection, inspector, n, row_limit, fingerprints) for n in names)
    sequences = ()
    if connection.dialect.name == 'postgresql':
        sequences = tuple(sorted(inspector.get_sequence_names()))
    return Snapshot(
        revision=revision(connection),
        tables=tables,
        sequences=sequences,
        url=masked_url(connection.engine.url),
        versioned=VERSION_TABLE in all_names,
    )


def revision(connection):
    """The revision ids recorded in alembic_version; () when there is no such table."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return ()
    rows = connection.execute(sa.text(f'SELECT version_num FROM {VERSION_TABLE}'))
    return tuple(sorted(r[0] for r in rows))


def masked_url(url):
    """A database URL safe to show, whatever its form: every password becomes ***.

    The one masking function for every message and page. It works on the text, because a URL
    with an unencoded '@' in its password parses wrongly (the rest of the password would be
    taken for the host) or not at all. Everything between the user name and the last '@' is
    hidden, and so is each secret query parameter (?password=...). When in doubt it hides too
    much, never too little.
    """
    # Written as SQLAlchemy writes it, so a string and its engine's URL read the same.
    with contextlib.suppress(sa.exc.ArgumentError, ValueError):
        url = sa.engine.make_url(url).render_as_string(hide_password=False)
    scheme, separator, rest = str(url).partition('://')
    if not separator:
        scheme, rest = '', scheme
    rest = SECRET_PARAMETER.sub(r'\1***', rest)
    user_info, at, place = rest.rpartition('@')
    if at and ':' in user_info:
        rest = f'{user_info.partition(":")[0]}:***@{place}'
    return f'{scheme}{separator}{rest}'


def fingerprint_sql(column):
    """SQL aggregates that summarise a column's values without fetching them.

    Two columns are taken to hold the same values when they have the same number of
    non-null values, the same total length of those values written as text, and the same
    smallest and largest text. Rehearsal uses this to recognise a renamed column or table
    by its content. A type change that rewrites the text (89000 -> 89000.00) therefore
    counts as a change, which errs on the safe side.
    """
    as_text = sa.cast(column, sa.Text)
    return [
        sa.func.count(column),
        sa.func.coalesce(sa.func.sum(sa.func.length(as_text)), 0),
        sa.func.min(as_text),
        sa.func.max(as_text),
    ]


def _table(connection, inspector, name, row_limit, fingerprints):
    """Reflect one table and read its count, first rows and, if asked, fingerprints."""
    pk = inspector.get_pk_constraint(name)
    pk_columns = pk.get('constrained_columns') or []
    reflected = inspector.get_columns(name)
    table = sa.table(name, *(sa.column(c['name']) for c in reflected))
    # Without a primary key, sort by each value's text: every type has one, while some
    # (PostgreSQL's json, for one) cannot be compared at all.
    order = [table.c[c] for c in pk_columns] or [sa.cast(c, sa.Text) for c in table.c]

    # One scan: the row count, then four fingerprint aggregates per column if asked.
    per_column = [fingerprint_sql(c) for c in table.c] if fingerprints else []
    summary = connection.execute(
        sa.select(sa.func.count(), *sum(per_column, [])).select_from(table)
    ).one()
    row_count = summary[0]
    prints = (
        {c.name: tuple(summary[1 + 4 * i : 5 + 4 * i]) for i, c in enumerate(table.c)}
        if fingerprints
        else {}
    )

    rows = ()
    if row_limit:
        query = sa.select(table).order_by(*order).limit(row_limit)
        rows = tuple(tuple(r) for r in connection.execute(query))

    columns = tuple(
        Column(
            name=c['name'],
            type=mysql.lesson_type(c['type'].compile(dialect=connection.dialect), connection),
            nullable=bool(c['nullable']),
            primary_key=c['name'] in pk_columns,
            default=c.get('default'),
            fingerprint=prints.get(c['name']),
        )
        for c in reflected
    )
    return Table(
        name=name,
        columns=columns,
        row_count=row_count,
        rows=rows,
        constraints=_constraints(inspector, name, pk),
    )


def _constraints(inspector, name, pk):
    """The table's named objects, as sortable tuples, so two schemas compare exactly."""
    found = []
    if pk.get('constrained_columns'):
        found.append(('primary key', pk.get('name') or '', tuple(pk['constrained_columns'])))
    for ix in inspector.get_indexes(name):
        found.append(('index', ix['name'] or '', tuple(ix['column_names']), bool(ix['unique'])))
    for uq in inspector.get_unique_constraints(name):
        found.append(('unique', uq['name'] or '', tuple(uq['column_names'])))
    for fk in inspector.get_foreign_keys(name):
        found.append(
            (
                'foreign key',
                fk['name'] or '',
                tuple(fk['constrained_columns']),
                fk['referred_table'],
                tuple(fk['referred_columns']),
            )
        )
    for ck in inspector.get_check_constraints(name):
        found.append(('check', ck['name'] or '', ck['sqltext']))
    return tuple(sorted(found))


def shown(value, limit=CELL_CHARACTERS):
    """A cell as the page, the JSON and `flask schema` show it.

    NULL, booleans, integers and finite numbers stay as they are; everything else becomes
    text of at most `limit` characters that says how much was cut. NaN and infinities become
    text (JSON has no such numbers), bytes become hexadecimal, JSON values become JSON.
    """
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float) and math.isnan(value):
        return 'NaN'
    if isinstance(value, float):
        return value if math.isfinite(value) else ('Infinity' if value > 0 else '-Infinity')
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        kept = limit // 2
        text = '0x' + data[:kept].hex()
        return text if len(data) <= kept else _cut(text, len(data) - kept, 'byte')
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    if len(text) <= limit:
        return text
    return _cut(text[:limit], len(text) - limit, 'character')


def _cut(kept, cut, unit):
    """'abc… (1,234 more characters)'."""
    return f'{kept}… ({cut:,} more {unit}{"" if cut == 1 else "s"})'
