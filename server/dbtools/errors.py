"""Expected mistakes, told in one line plus a hint, never a traceback.

env.py runs every migration inside `explained()`. A known mistake is turned into an Alembic
CommandError; Flask-Migrate prints that as its `Error:` line (ours add a hint line below) and
exits with status 1. Anything unknown passes through untouched.
"""

import contextlib
import re

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app

from dbtools import snapshot


class Explained(CommandError):
    """A mistake with its explanation and what to do next."""

    def __init__(self, what, hint):
        super().__init__(f'{what}\n  Hint: {hint}')
        self.what, self.hint = what, hint


@contextlib.contextmanager
def explained(config):
    """Run env.py's work, turning known mistakes into an `Explained` error."""
    try:
        yield
    except Explained:
        raise
    except CommandError as exc:
        raise explain_alembic(str(exc), ScriptDirectory.from_config(config)) from None
    except sa.exc.DBAPIError as exc:
        raise explain_database(exc) or _failed_migration(exc) from None


def explain_alembic(message, script):
    """Alembic's complaint about revisions, explained where it is a known mistake."""
    missing = re.search(
        r"(?:Can't locate revision identified by|No such revision or branch) "
        r"'([^']*)'",
        message,
    )
    if missing:
        rev = missing.group(1)
        if rev in _recorded_revision():
            return Explained(
                f'the database is at revision {rev}, but no file in migrations/versions '
                f'has that id (was it deleted?)',
                'restore the file (git checkout -- migrations/versions), or record the '
                'revision the database really matches with `flask db stamp <revision> --purge`',
            )
        return Explained(
            f"there is no revision '{rev}'",
            '`flask db history` lists the ids; head, base, +1 and -1 work too',
        )
    if 'Multiple head' in message or (
        message.startswith('Target database is not up to date') and len(script.get_heads()) > 1
    ):
        heads = sorted(script.get_heads())
        count = {2: 'two', 3: 'three'}.get(len(heads), str(len(heads)))
        return Explained(
            f'the migrations have {count} heads ({", ".join(heads)}): {count} '
            'revisions follow the same parent',
            'join them with `flask db merge heads -m "merge heads"`, then run `flask db upgrade`',
        )
    if message.startswith('Target database is not up to date'):
        return Explained(
            'the database is not at the latest revision, so autogenerate '
            'would compare the models with an old schema',
            'run `flask db upgrade` first, then `flask db migrate`',
        )
    return CommandError(message)


def explain_database(exc):
    """Explain a driver error any command can meet (unreachable, locked), or return None."""
    url = snapshot.masked_url(_engine().url)
    reason = _reason(exc)
    if exc.statement is None or isinstance(exc, sa.exc.InterfaceError):
        return Explained(
            f'cannot reach the database {url}: {reason}',
            'check DATABASE_URL and that the database server is running',
        )
    if 'database is locked' in reason:
        return Explained(
            f'{url} is locked by another program',
            'close other `flask` commands or database browsers, then try again',
        )
    return None


def _failed_migration(exc):
    """Explain a driver error raised by a revision; its transaction was rolled back."""
    reason = _reason(exc)
    recorded = _recorded_revision()
    if 'already exists' in reason and not recorded:
        return Explained(
            f'the tables already exist but the database has no migration history '
            f'(no alembic_version): they were probably made by db.create_all() ({reason})',
            'if they match a revision, record it with `flask db stamp <revision>` '
            '(`flask db stamp head` for the current models); otherwise delete the database '
            'and run `flask db upgrade`',
        )
    where = ', '.join(recorded) or 'base (empty)'
    return Explained(
        f'a migration failed and was rolled back: {reason}; '
        f'the database is still at revision {where}',
        f'fix the revision that comes after {where}, then run the command again',
    )


def _reason(exc):
    """The first line of what the driver said."""
    return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)


def _recorded_revision():
    """What alembic_version says now, read on a fresh connection; () if unreadable."""
    try:
        with _engine().connect() as connection:
            return snapshot.revision(connection)
    except sa.exc.DBAPIError:
        return ()


def _engine():
    """The app's engine, the one every `flask db` command migrates."""
    return current_app.extensions['migrate'].db.engine
