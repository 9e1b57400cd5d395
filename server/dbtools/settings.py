"""A clear error for a DATABASE_URL that cannot work, before Flask-SQLAlchemy trips on it."""

import click
import sqlalchemy as sa

from dbtools.snapshot import masked_url

EXAMPLE = 'postgresql+psycopg://postgres@127.0.0.1:5432/test'


class DatabaseURLError(click.ClickException):
    """Click prints it as one `Error:` line, whichever `flask` command loaded the app."""


def check_database_url(url):
    """Raise DatabaseURLError unless `url` names a database SQLAlchemy can drive."""
    shown = masked_url(url)
    try:
        dialect = sa.engine.make_url(url).get_dialect()
    except (sa.exc.NoSuchModuleError, ImportError) as exc:
        raise DatabaseURLError(
            f"DATABASE_URL '{shown}' names a database this project cannot drive ({exc})\n"
            f'  Hint: use sqlite:///app.db or postgresql+psycopg://… '
            f'(postgres:// is the old spelling of postgresql://)'
        ) from None
    except sa.exc.ArgumentError:
        raise DatabaseURLError(
            f"DATABASE_URL '{shown}' is not a database URL\n"
            f'  Hint: write it as dialect+driver://user:password@host:port/name, '
            f'for example {EXAMPLE}, or unset it to use instance/app.db'
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        raise DatabaseURLError(
            f"DATABASE_URL '{shown}' needs a database driver that is not installed ({exc})\n"
            f'  Hint: this project installs psycopg for PostgreSQL ({EXAMPLE}); '
            f'SQLite needs no driver'
        ) from None
