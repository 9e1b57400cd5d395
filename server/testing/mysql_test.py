"""What MySQL and MariaDB need, without a server: the DDL and the types (dbtools/mysql.py)."""

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql as mysql_dialect
from sqlalchemy.dialects import postgresql, sqlite

from dbtools import mysql


@pytest.mark.parametrize(
    'type_, on_mysql, elsewhere',
    [
        (sa.String(), 'VARCHAR(255)', 'VARCHAR'),
        (sa.VARCHAR(), 'VARCHAR(255)', 'VARCHAR'),
        (sa.Unicode(), 'VARCHAR(255)', 'VARCHAR'),
        (sa.String(30), 'VARCHAR(30)', 'VARCHAR(30)'),
        (sa.Text(), 'TEXT', 'TEXT'),
    ],
)
def test_a_string_without_a_length_is_varchar_255_on_mysql_only(type_, on_mysql, elsewhere):
    """The lesson's db.String and autogenerate's sa.String() compile everywhere."""
    assert type_.compile(dialect=mysql_dialect.dialect()) == on_mysql, repr(type_)
    assert type_.compile(dialect=mysql_dialect.dialect(is_mariadb=True)) == on_mysql
    for other in (postgresql.dialect(), sqlite.dialect()):
        assert type_.compile(dialect=other) == elsewhere, f'{type_!r} on {other.name}'


@pytest.mark.parametrize(
    'reflected, shown',
    [('VARCHAR(255)', 'VARCHAR'), ('INTEGER(11)', 'INTEGER'), ('VARCHAR(30)', 'VARCHAR(30)')],
)
def test_reflected_types_read_as_the_models_write_them(reflected, shown):
    """The snapshot shows MySQL's VARCHAR(255) and INTEGER(11) as the lesson's types."""
    assert mysql.lesson_type(reflected, mysql_dialect.dialect()) == shown
    assert mysql.lesson_type(reflected, postgresql.dialect()) == reflected, 'MySQL only'


def test_alembics_existing_type_complaint_gets_a_hint():
    what, hint = mysql.explain(
        'All MySQL CHANGE/MODIFY COLUMN operations require the existing type.'
    )
    assert what.startswith('on MySQL and MariaDB, renaming or changing a column restates')
    assert hint.startswith('add existing_type= to that op.alter_column')
    assert mysql.explain('something else') is None
