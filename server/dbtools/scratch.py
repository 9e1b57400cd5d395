"""A scratch copy of a MySQL/MariaDB database, for `flask db rehearse`.

Rehearsal elsewhere runs the migrations inside one transaction and rolls it back. MySQL and
MariaDB commit every DDL statement at once, so that would change the live database. There,
rehearsal runs on a new database built from the live one instead (each table as SHOW CREATE
TABLE describes it, its rows, and alembic_version), and drops it afterwards, pass or fail.
"""

import contextlib
import uuid

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from dbtools import errors, mysql


@contextlib.contextmanager
def rehearsal_engine(engine):
    """`engine` where a rollback undoes DDL; on MySQL/MariaDB, an engine on a scratch copy."""
    if not mysql.is_mysql(engine):
        yield engine
        return
    live = engine.url.database
    name = f'{live[:40]}_rehearsal_{uuid.uuid4().hex[:8]}'
    quote = engine.dialect.identifier_preparer.quote
    with engine.connect() as connection:
        try:
            connection.exec_driver_sql(f'CREATE DATABASE {quote(name)}')
        except sa.exc.DBAPIError as exc:
            raise errors.Explained(
                f'cannot rehearse on MySQL/MariaDB without a scratch copy of the database, '
                f'and creating one failed: {str(exc.orig).strip()}',
                f'grant this user CREATE and DROP on databases named {live}_rehearsal_…; '
                'the live database is never rehearsed on, since its DDL commits itself',
            ) from None
    copy = sa.create_engine(engine.url.set(database=name), poolclass=NullPool)
    try:
        with copy.begin() as connection:
            _copy_tables(connection, live)
        yield copy
    finally:
        copy.dispose()
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS {quote(name)}')


def _copy_tables(connection, live):
    """Every table of `live`, definition and rows, into the database `connection` is on."""
    quote = connection.dialect.identifier_preparer.quote
    # Foreign keys may point at tables not copied yet; the rows already satisfy them.
    connection.exec_driver_sql('SET FOREIGN_KEY_CHECKS = 0')
    for table in sa.inspect(connection).get_table_names(schema=live):
        source = f'{quote(live)}.{quote(table)}'
        create = connection.exec_driver_sql(f'SHOW CREATE TABLE {source}').one()[1]
        # The driver reads % as a parameter marker; a default like '50%' must stay as it is.
        connection.exec_driver_sql(create.replace('%', '%%'))
        connection.exec_driver_sql(f'INSERT INTO {quote(table)} SELECT * FROM {source}')
    connection.exec_driver_sql('SET FOREIGN_KEY_CHECKS = 1')
