"""The database settings, checked before Flask-SQLAlchemy trips on them.

A DATABASE_URL that cannot work gets one clear line. One that works but would leak its
password through Alembic's or SQLAlchemy's own output (a `?password=` query) is rewritten into
the ordinary form, which every one of them masks. Connections give up after a while instead of
hanging on a server that accepts and never answers.
"""

import click
import sqlalchemy as sa

from dbtools.snapshot import masked_url

EXAMPLE = 'postgresql+psycopg://postgres@127.0.0.1:5432/test'
# Seconds to wait for a database server to answer a new connection.
CONNECT_TIMEOUT = 10
# Drivers that take a `connect_timeout` argument, by dialect.
TIMEOUTS = {'postgresql', 'mysql', 'mariadb'}


# What to write instead of a URL whose driver is missing, by database.
DRIVERS = {
    'postgresql': f'psycopg for PostgreSQL: write postgresql+psycopg://… ({EXAMPLE})',
    'mysql': 'PyMySQL for MySQL and MariaDB: write mysql+pymysql://… '
    '(mysql+pymysql://root@127.0.0.1:3306/lesson)',
    None: 'psycopg for PostgreSQL (postgresql+psycopg://…) and PyMySQL for MySQL and MariaDB '
    '(mysql+pymysql://…); SQLite needs no driver',
}


class DatabaseURLError(click.ClickException):
    """Click prints it as one `Error:` line, whichever `flask` command loaded the app."""


def configure(app):
    """Check the app's database URL, put a `?password=` where it is masked, set a timeout."""
    given = app.config['SQLALCHEMY_DATABASE_URI']
    url = check_database_url(given)
    if url.password != sa.engine.make_url(given).password:
        app.config['SQLALCHEMY_DATABASE_URI'] = url.render_as_string(hide_password=False)
    if url.get_backend_name() in TIMEOUTS:
        options = app.config.setdefault('SQLALCHEMY_ENGINE_OPTIONS', {})
        timeout = app.config.get('DATABASE_CONNECT_TIMEOUT', CONNECT_TIMEOUT)
        options.setdefault('connect_args', {}).setdefault('connect_timeout', timeout)


def check_database_url(url):
    """The parsed URL; DatabaseURLError unless it names a database SQLAlchemy can drive."""
    shown = masked_url(url)
    try:
        parsed = sa.engine.make_url(url)
        dialect = parsed.get_dialect()
    except (sa.exc.NoSuchModuleError, ImportError) as exc:
        raise DatabaseURLError(
            f"DATABASE_URL '{shown}' names a database this project cannot drive ({exc})\n"
            f'  Hint: use sqlite:///app.db or postgresql+psycopg://… '
            f'(postgres:// is the old spelling of postgresql://)'
        ) from None
    except (sa.exc.ArgumentError, ValueError) as exc:
        port = ': its port is not a number' if 'int()' in str(exc) else ''
        raise DatabaseURLError(
            f"DATABASE_URL '{shown}' is not a database URL{port}\n"
            f'  Hint: write it as dialect+driver://user:password@host:port/name, '
            f'for example {EXAMPLE}, or unset it to use instance/app.db'
        ) from None
    if parsed.host and '@' in parsed.host:
        raise DatabaseURLError(
            f"DATABASE_URL '{shown}' has an @ in its password or user name\n"
            f'  Hint: write @ as %40 there (user:p%40ss@host), or the part after it is taken '
            f'for the host'
        )
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        raise DatabaseURLError(
            f"DATABASE_URL '{shown}' needs a database driver that is not installed ({exc})\n"
            f'  Hint: this project installs {DRIVERS.get(parsed.get_backend_name(), DRIVERS[None])}'
        ) from None
    if 'password' in parsed.query:
        query = {k: v for k, v in parsed.query.items() if k != 'password'}
        parsed = parsed.set(password=parsed.query['password'], query=query)
    return parsed
