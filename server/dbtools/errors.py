"""Expected mistakes, told in one line plus a hint, never a traceback.

Every `flask db` command and every command of ours runs inside `reported()`. It asks
`explain()` for the real cause of a failure, in this order: the database itself (unreachable,
locked, read-only), a revision's own code (named from the traceback, so a failed downgrade()
names the revision it belongs to), tables made outside migrations, then Alembic's complaints.
Whatever is left is a bug of ours and keeps its traceback.
"""

import contextlib
import re
import traceback
from pathlib import Path

import click
import sqlalchemy as sa
from alembic.util import CommandError
from flask import current_app

from dbtools import snapshot


class Explained(CommandError):
    """A mistake with its explanation and what to do next."""

    def __init__(self, what, hint):
        super().__init__(f'{what}\n  Hint: {hint}')
        self.what, self.hint = what, hint


class Failed(click.ClickException):
    """Click's one `Error: …` line (and the hint below it), with an exit status of our own."""

    def __init__(self, message, exit_code=1):
        super().__init__(message)
        self.exit_code = exit_code


@contextlib.contextmanager
def reported(status=1, script=None):
    """Print an explainable failure as `Error:` and `Hint:` lines and exit with `status`."""
    try:
        yield
    except Exception as exc:
        explained = explain(exc, script)
        if explained is None:
            raise
        raise Failed(str(explained), status) from None


def explain(exc, script=None):
    """The Explained form of `exc`, or None for a failure that is a bug of ours."""
    from dbtools import atomic

    if isinstance(exc, Explained):
        return exc
    if isinstance(exc, atomic.Busy):
        return Explained(
            f'another process has been migrating this database for over '
            f'{atomic.WAIT_SECONDS // 60} minutes',
            'wait for it to finish (or stop it), then run the command again',
        )
    if isinstance(exc, sa.exc.DBAPIError):
        found = explain_database(exc) or _made_outside_migrations(exc)
        if found is not None:
            return found
    failed = _failed_revision(exc)
    if failed is not None:
        return failed
    if isinstance(exc, CommandError):
        return explain_alembic(str(exc), script)
    return None


def loaded(script):
    """`script` with every revision file read; Explained naming the file that cannot be."""
    try:
        script.get_heads()
    except CommandError:
        raise
    except Exception as exc:
        # A SyntaxError names its file; any other error, the revision's frame in the traceback.
        where = getattr(exc, 'filename', None), getattr(exc, 'lineno', None)
        if where[0] is None:
            versions = Path(script.versions)
            frames = [f for f, _ in traceback.walk_tb(exc.__traceback__)]
            inside = [f for f in frames if Path(f.f_code.co_filename).parent == versions]
            where = (inside[-1].f_code.co_filename, inside[-1].f_lineno) if inside else where
        name = Path(where[0]).name if where[0] else 'a revision file'
        line = f', line {where[1]}' if where[1] else ''
        reason = getattr(exc, 'msg', None) or exc
        raise Explained(
            f'migrations/versions/{name}{line} cannot be read: {type(exc).__name__}: {reason}',
            'fix that line (an unfinished edit?), then run the command again',
        ) from None
    return script


def missing_file(revision):
    """The database records `revision`, and no revision file has that id."""
    return Explained(
        f'the database is at revision {revision}, but no file in migrations/versions '
        f'has that id (was it deleted?)',
        'restore the file (git checkout -- migrations/versions), or record the revision the '
        'database really matches with `flask db stamp <revision> --purge`; a database from '
        'before `flask lesson start` can simply be deleted',
    )


def explain_alembic(message, script=None):
    """Alembic's complaint about revisions, explained where it is a known mistake."""
    missing = re.search(
        r"(?:Can't locate revision identified by|No such revision or branch) '([^']*)'", message
    )
    heads = sorted(script.get_heads()) if script is not None else []
    if missing:
        rev = missing.group(1)
        if rev in _recorded_revision():
            return missing_file(rev)
        return Explained(
            f"there is no revision '{rev}'",
            '`flask db history` lists the ids; head, base, +1 and -1 work too',
        )
    if 'Multiple head' in message or (
        message.startswith('Target database is not up to date') and len(heads) > 1
    ):
        count = {2: 'two', 3: 'three'}.get(len(heads), str(len(heads)))
        return Explained(
            f'the migrations have {count} heads ({", ".join(heads)}): {count} '
            'revisions follow the same parent',
            'join them with `flask db merge heads -m "merge heads"`, then run `flask db upgrade`',
        )
    if message.startswith('Directory') and 'already exists and is not empty' in message:
        return Explained(
            'the migrations folder already exists, so `flask db init` has nothing to do: this '
            'project comes with its own',
            'to write the four revisions yourself, run `flask lesson start`, which empties '
            'migrations/versions and keeps the rest',
        )
    if message.startswith('Target database is not up to date'):
        return Explained(
            'the database is not at the latest revision, so autogenerate '
            'would compare the models with an old schema',
            'run `flask db upgrade` first, then `flask db migrate`',
        )
    return Explained(
        message.strip().splitlines()[0],
        'that is Alembic speaking; `flask db history` and `flask db current` show the '
        'revisions and where the database is',
    )


def explain_database(exc):
    """Explain a driver error any command can meet (unreachable, locked, read-only), or None."""
    url = snapshot.masked_url(_engine().url)
    reason = first_line(exc)
    if 'Access denied for user' in reason or 'password authentication failed' in reason:
        return Explained(
            f'the database server at {url} refused the user or password: {reason}',
            'check the user name and password in DATABASE_URL (write @ in a password as %40)',
        )
    if 'Unknown database' in reason or re.search(r'database "[^"]*" does not exist', reason):
        return Explained(
            f'the database named in {url} does not exist on that server: {reason}',
            'create it first (`createdb` for PostgreSQL, `CREATE DATABASE …` in the mysql '
            'client), or fix its name in DATABASE_URL',
        )
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
    # MySQL, PostgreSQL, and PostgreSQL for a user with no rights on any schema at all.
    if any(s in reason for s in ('command denied', 'permission denied', 'no schema has been')):
        return Explained(
            f'the database user of {url} is not allowed to do this: {reason}',
            'connect as a user who may create and change tables (or ask for those rights), '
            'or point DATABASE_URL at a database of your own',
        )
    if 'readonly database' in reason or 'read-only transaction' in reason:
        return Explained(
            f'the database {url} is read-only, so nothing could be written ({reason})',
            'give yourself write permission on the database file and its folder, or point '
            'DATABASE_URL at a database you may change',
        )
    return None


def _made_outside_migrations(exc):
    """A model's table that already exists: db.create_all() made it, not a revision."""
    reason = first_line(exc)
    # SQLite, PostgreSQL and MySQL each word it their own way.
    name = re.search(
        r"""(?:table|relation|Table) ["'`]?(\w+)["'`]? already exists"""
        r'|another table or index with this name: ["`]?(\w+)',
        reason,
    )
    table = name and (name.group(1) or name.group(2))
    if table not in _model_tables():
        return None
    recorded = _recorded_revision()
    if not recorded:
        return Explained(
            f'the tables already exist but the database has no migration history '
            f'(no alembic_version): they were probably made by db.create_all() ({reason})',
            'if they match a revision, record it with `flask db stamp <revision>` '
            '(`flask db stamp head` for the current models); otherwise delete the database '
            'and run `flask db upgrade`',
        )
    return Explained(
        f'table {table} already exists although the database is at revision '
        f'{", ".join(recorded)}: it was made outside migrations, probably by db.create_all()',
        f'drop that table (it is not part of revision {", ".join(recorded)}) or delete the '
        'database and run `flask db upgrade`; let migrations create tables, not db.create_all()',
    )


def _failed_revision(exc):
    """Name the revision whose own code raised `exc`; its transaction was rolled back."""
    frame = revision_frame(exc)
    if frame is None:
        return None
    module = frame.f_globals
    function = frame.f_code.co_name
    reason = (
        first_line(exc) if isinstance(exc, sa.exc.DBAPIError) else f'{type(exc).__name__}: {exc}'
    )
    doc = (module.get('__doc__') or '').strip().splitlines()
    title = f' ({doc[0]})' if doc else ''
    where = ', '.join(_recorded_revision()) or 'base (empty)'
    return Explained(
        f'revision {module["revision"]}{title} failed in {function}(): {reason}; it was '
        f'rolled back and the database is still at {where}',
        f'fix {function}() in migrations/versions/{Path(frame.f_code.co_filename).name}, then '
        'run the command again',
    )


def revision_frame(exc):
    """The outermost traceback frame inside a revision file, or None."""
    for frame, _line in traceback.walk_tb(exc.__traceback__):
        names = frame.f_globals
        if 'revision' in names and 'down_revision' in names and 'upgrade' in names:
            return frame
    return None


def first_line(exc):
    """The first line of what the driver said (MySQL's drivers say it as (code, text))."""
    orig = getattr(exc, 'orig', None)
    args = getattr(orig, 'args', ())
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        orig = args[1]
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _recorded_revision():
    """What alembic_version says now, read on a fresh connection; () if unreadable."""
    try:
        with _engine().connect() as connection:
            return snapshot.revision(connection)
    except sa.exc.DBAPIError:
        return ()


def _model_tables():
    """The table names the app's models define."""
    return set(current_app.extensions['migrate'].db.metadata.tables)


def _engine():
    """The app's engine, the one every `flask db` command migrates."""
    return current_app.extensions['migrate'].db.engine
