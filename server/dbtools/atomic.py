"""Migrations that never stop half-way.

Each revision runs in a transaction of its own, together with the update of alembic_version:
a revision that fails leaves the database exactly as it was before that revision, and an
upgrade that fails at step k stands at step k-1. PostgreSQL has transactional DDL. SQLite has
it as well, but Python's sqlite3 module commits on its own before DDL, so Alembic assumes it
cannot roll DDL back; a migration engine that issues BEGIN itself (the recipe in SQLAlchemy's
pysqlite notes) gives the guarantee back. On PostgreSQL an advisory lock makes a second
`flask db upgrade` wait for the first, which then leaves it nothing to do.
"""

import contextlib
import logging

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

# Any fixed number will do: advisory locks are scoped to one database.
LOCK_KEY = 2026_1123_0001
log = logging.getLogger('alembic.env')


def configure_args(attributes):
    """Alembic settings for one transaction per revision, plus rehearsal's step callback."""
    args = {'transactional_ddl': True, 'transaction_per_migration': True}
    if 'on_version_apply' in attributes:
        args['on_version_apply'] = attributes['on_version_apply']
    return args


@contextlib.contextmanager
def connect(engine, attributes):
    """The connection env.py migrates through: the caller's own, or a new locked one."""
    shared = attributes.get('connection')
    if shared is not None:
        yield shared
        return
    engine = migration_engine(engine)
    with engine.connect() as connection, _one_at_a_time(connection):
        yield connection


def migration_engine(engine):
    """`engine` itself, or on SQLite a sibling engine whose transactions cover DDL too."""
    if engine.dialect.name != 'sqlite' or engine.url.database in (None, '', ':memory:'):
        return engine
    sibling = sa.create_engine(engine.url, poolclass=NullPool)
    sa.event.listen(sibling, 'connect', _leave_transactions_to_us)
    sa.event.listen(sibling, 'begin', _begin_immediate)
    return sibling


def _leave_transactions_to_us(dbapi_connection, _record):
    """Stop sqlite3 from opening and committing transactions behind SQLAlchemy's back."""
    dbapi_connection.isolation_level = None


def _begin_immediate(connection):
    """Start a real transaction that takes the write lock at once."""
    connection.exec_driver_sql('BEGIN IMMEDIATE')


@contextlib.contextmanager
def _one_at_a_time(connection):
    """On PostgreSQL, hold a lock for the whole command so migrations never interleave."""
    if connection.dialect.name != 'postgresql':
        yield
        return
    if not connection.scalar(sa.text('SELECT pg_try_advisory_lock(:k)'), {'k': LOCK_KEY}):
        log.info('Another process is migrating this database; waiting for it to finish.')
        connection.execute(sa.text('SELECT pg_advisory_lock(:k)'), {'k': LOCK_KEY})
    connection.commit()
    try:
        yield
    finally:
        # Closing the connection would release the lock as well; this returns it at once.
        with contextlib.suppress(sa.exc.DBAPIError):
            connection.rollback()
            connection.execute(sa.text('SELECT pg_advisory_unlock(:k)'), {'k': LOCK_KEY})
            connection.commit()
