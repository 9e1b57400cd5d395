"""Migrations that never stop half-way, and never two at once.

Each revision runs in a transaction of its own, together with the update of alembic_version:
a revision that fails leaves the database exactly as it was before that revision, and an
upgrade that fails at step k stands at step k-1. PostgreSQL has transactional DDL. SQLite has
it as well, but Python's sqlite3 module commits on its own before DDL, so Alembic assumes it
cannot roll DDL back; issuing BEGIN ourselves (the recipe in SQLAlchemy's pysqlite notes) gives
the guarantee back. MySQL and MariaDB commit every DDL statement on their own; there the
project undoes a failed revision's operations instead (undo.py).

One migrating command at a time: a second `flask db upgrade` waits for the first, then finds
nothing left to do. PostgreSQL has advisory locks and MariaDB named locks; SQLite has neither,
so a lock file beside the database stands in for them. Read-only commands take no lock.
"""

import contextlib
import hashlib
import sqlite3

import click
import sqlalchemy as sa

# Any fixed number will do: advisory locks are scoped to one database.
LOCK_KEY = 2026_1123_0001
# MariaDB's named locks are server-wide, so the name carries the database's name (hashed:
# lock names may be 64 characters at most).
LOCK_NAME = 'lesson-migrations:{database}'
# How long a second migrating command waits for the first before giving up.
WAIT_SECONDS = 600


class Busy(Exception):
    """Another process held the migration lock for longer than WAIT_SECONDS."""


def configure_args(on_version_apply=None):
    """Alembic settings for one transaction per revision, and an optional step callback."""
    args = {'transactional_ddl': True, 'transaction_per_migration': True}
    if on_version_apply is not None:
        args['on_version_apply'] = on_version_apply
    return args


def prepare(engine):
    """Make `engine` fit for migrations: on SQLite, let transactions cover DDL too."""
    if engine.dialect.name != 'sqlite' or sa.event.contains(engine, 'begin', _begin):
        return engine
    # Connections made before the listeners would still commit behind SQLAlchemy's back.
    engine.dispose()
    sa.event.listen(engine, 'connect', _leave_transactions_to_us)
    sa.event.listen(engine, 'begin', _begin)
    return engine


def _leave_transactions_to_us(dbapi_connection, _record):
    """Stop sqlite3 from opening and committing transactions behind SQLAlchemy's back."""
    dbapi_connection.isolation_level = None


def _begin(connection):
    """Start a real transaction; it takes the write lock only when it first writes."""
    connection.exec_driver_sql('BEGIN')


@contextlib.contextmanager
def one_at_a_time(engine):
    """Hold the database's migration lock for the whole command, waiting for it if taken."""
    dialect = engine.dialect.name
    if dialect == 'sqlite':
        with _lock_file(engine.url.database):
            yield
        return
    if dialect not in ('postgresql', 'mysql', 'mariadb'):
        yield
        return
    # A connection of its own (with the app's connect timeout), held for the whole command.
    with engine.connect() as connection:
        if dialect == 'postgresql':
            held = _advisory(connection)
        else:
            held = _named(connection, engine.url.database)
        with held:
            yield


@contextlib.contextmanager
def _advisory(connection):
    """PostgreSQL's session advisory lock, released when the command ends."""
    key = {'k': LOCK_KEY}
    if not connection.scalar(sa.text('SELECT pg_try_advisory_lock(:k)'), key):
        _waiting()
        connection.execute(sa.text(f"SET lock_timeout = '{WAIT_SECONDS}s'"))
        try:
            connection.execute(sa.text('SELECT pg_advisory_lock(:k)'), key)
        except sa.exc.OperationalError:
            raise Busy() from None
        finally:
            # The connection goes back to the app's pool: leave no setting of ours on it.
            with contextlib.suppress(sa.exc.DBAPIError):
                connection.execute(sa.text('RESET lock_timeout'))
    connection.commit()
    try:
        yield
    finally:
        with contextlib.suppress(sa.exc.DBAPIError):
            connection.rollback()
            connection.execute(sa.text('SELECT pg_advisory_unlock(:k)'), key)
            connection.commit()


@contextlib.contextmanager
def _named(connection, database):
    """MariaDB's and MySQL's named lock, released when the command ends."""
    digest = hashlib.sha256(database.encode()).hexdigest()[:40]
    name = {'n': LOCK_NAME.format(database=digest)}
    if not connection.scalar(sa.text('SELECT GET_LOCK(:n, 0)'), name):
        _waiting()
        got = connection.scalar(sa.text('SELECT GET_LOCK(:n, :s)'), name | {'s': WAIT_SECONDS})
        if not got:
            raise Busy()
    try:
        yield
    finally:
        with contextlib.suppress(sa.exc.DBAPIError):
            connection.scalar(sa.text('SELECT RELEASE_LOCK(:n)'), name)


@contextlib.contextmanager
def _lock_file(database):
    """An exclusive transaction on `<database>-lock`, a tiny SQLite file of its own.

    SQLite's own locks work on every platform and wait by themselves; taking them on a separate
    file keeps the database itself free for readers (and for the migration's own writes).
    """
    lock = None
    if database not in (None, '', ':memory:'):
        with contextlib.suppress(sqlite3.Error):  # no folder for it: the database will say so
            lock = sqlite3.connect(f'{database}-lock', timeout=WAIT_SECONDS, isolation_level=None)
    if lock is None:
        yield
        return
    try:
        if not _exclusive(lock, wait=False):
            _waiting()
            if not _exclusive(lock, wait=True):
                raise Busy()
        yield
    finally:
        lock.close()


def _exclusive(lock, wait):
    """Take the lock file's write lock; False if another process holds it.

    A lock file that cannot be written at all (a read-only folder) counts as taken by us: the
    migration's own error then says what is wrong far better than a lock could.
    """
    lock.execute(f'PRAGMA busy_timeout = {WAIT_SECONDS * 1000 if wait else 0}')
    try:
        lock.execute('BEGIN EXCLUSIVE')
    except sqlite3.OperationalError as exc:
        return 'locked' not in str(exc)
    return True


def _waiting():
    """Say why the command is not moving (before env.py has set up any logging)."""
    click.echo('Another process is migrating this database; waiting for it to finish.', err=True)
