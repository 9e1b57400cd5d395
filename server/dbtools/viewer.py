"""See the database without an editor extension: the page at /, /schema.json and `flask schema`.

All three show the same snapshot of the live database, so they are right at every revision.
The routes only answer GET (Flask refuses POST and the rest with 405) and only read.

The page never breaks: each snapshot is one consistent read, retried while a migration changes
the database under it, and a 503 with a Refresh header when that stays impossible.
dbtools/guard.py keeps it to requests addressed to this machine and adds protective headers.
"""

import contextlib
import time
from dataclasses import asdict

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template

from dbtools import drift, errors, guard, migration_sql, snapshot

bp = Blueprint('viewer', __name__, template_folder='templates')
bp.add_app_template_filter(snapshot.shown, 'cell')
bp.before_app_request(guard.only_local_hosts)
bp.after_app_request(guard.protective_headers)

# A migration changes the database for milliseconds at a time, so a few tries almost always
# find a quiet moment; a long one gets a 503 that reloads itself.
ATTEMPTS = 3
PAUSE = 0.1
RELOAD_SECONDS = '2'


def current_snapshot():
    """The app database's snapshot from one consistent read; Explained if none can be had."""
    engine = current_app.extensions['migrate'].db.engine
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with engine.connect() as connection, _consistent_read(connection):
                return snapshot.take(connection)
        except (sa.exc.DBAPIError, sa.exc.NoSuchTableError) as exc:
            explained = isinstance(exc, sa.exc.DBAPIError) and errors.explain_database(exc)
            if explained:
                raise explained from None
            failure = _failure(exc)
        if attempt < ATTEMPTS:
            time.sleep(PAUSE)
    raise _unreadable(failure)


def _unreadable(failure):
    """The error for a read that a migration kept changing under it."""
    return errors.Explained(
        f'could not read a consistent snapshot of the database ({failure})',
        'a migration is probably running; try again when it has finished',
    )


def _failure(exc):
    """The first line of what the driver said, or which table vanished."""
    if isinstance(exc, sa.exc.NoSuchTableError):
        return f'table {exc} vanished while it was read'
    return str(exc.orig or exc).strip().splitlines()[0]


@contextlib.contextmanager
def _consistent_read(connection):
    """Make every statement on `connection` see the same state of the database."""
    if connection.dialect.name == 'postgresql':
        # One MVCC snapshot for the whole read; give up rather than queue behind a migration.
        connection.execution_options(isolation_level='REPEATABLE READ')
        connection.exec_driver_sql("SET LOCAL lock_timeout = '1s'")
    if connection.dialect.name != 'sqlite':
        yield
        return
    # sqlite3 opens no transaction for SELECT; a read transaction holds one state.
    # Once a migration ran in this process, atomic.prepare() issues BEGIN itself.
    connection.begin()
    sqlite = connection.connection.dbapi_connection
    if not sqlite.in_transaction:
        connection.exec_driver_sql('BEGIN')
    # SQLite lets a TEXT value hold bytes that are not UTF-8; show them as U+FFFD.
    sqlite.text_factory = _lenient_text
    try:
        yield
    finally:
        sqlite.text_factory = str


def _lenient_text(data):
    """Decode SQLite text, replacing what is not UTF-8."""
    return data.decode('utf-8', 'replace')


def history(current):
    """Base, then every revision up to head: id, message, whether it is current, the next
    pending one, head or base, and its upgrade() and downgrade() with their SQL."""
    scripts = migration_sql.scripts()
    heads = set(scripts.get_heads())
    pending = set(scripts.get_bases()) if not current else set()
    for rev in filter(migration_sql.exists, current):
        pending |= set(scripts.get_revision(rev).nextrev)
    base = {
        'id': 'base',
        'message': 'empty database, before the first revision',
        'current': not current,
        'next': False,
        'head': False,
        'base': True,
    }
    return [base] + [
        {
            'id': rev.revision,
            'message': rev.doc,
            'current': rev.revision in current,
            'next': rev.revision in pending,
            'head': rev.revision in heads,
            'base': False,
            'upgrade': asdict(migration_sql.render(rev.revision)),
            'downgrade': asdict(migration_sql.render(rev.revision, down=True)),
        }
        for rev in reversed(list(scripts.walk_revisions()))
    ]


@bp.get('/')
def page():
    """The HTML view: revision history and every table with its rows."""
    snap = current_snapshot()
    return render_template(
        'viewer.html',
        snap=snap,
        history=history(snap.revision),
        drift=drift.check(snap),
        dialect=current_app.extensions['migrate'].db.engine.dialect.name,
    )


@bp.get('/schema.json')
def schema_json():
    """The same snapshot as JSON, plus the history and any drift."""
    snap = current_snapshot()
    return jsonify(
        snap.to_dict()
        | {
            'history': history(snap.revision),
            'drift': [asdict(d) for d in drift.check(snap)],
        }
    )


@bp.errorhandler(errors.Explained)
def database_error(exc):
    """An unreachable, locked or changing database: say so plainly (503), and try again soon."""
    return guard.plain_answer(exc.what, exc.hint, 503, Refresh=RELOAD_SECONDS)


@bp.errorhandler(sa.exc.DBAPIError)
@bp.errorhandler(sa.exc.NoSuchTableError)
def changed_while_read(exc):
    """A read after the snapshot (the drift check) met a migration: a 503 as well."""
    explained = isinstance(exc, sa.exc.DBAPIError) and errors.explain_database(exc)
    return database_error(explained or _unreadable(_failure(exc)))


def revision_line(snap):
    """'Revision: <ids>', 'base (empty)', or none recorded while tables exist."""
    if snap.revision:
        return f'Revision: {", ".join(snap.revision)}'
    if not snap.tables:
        return 'Revision: base (empty)'
    why = 'alembic_version is empty' if snap.versioned else 'no alembic_version table'
    return f'Revision: none recorded ({why})'


def render_text(snap):
    """`flask schema`'s output: the revision and any drift, then one aligned table per table."""
    lines = [f'Database: {snap.url}', revision_line(snap)]
    lines += [d.line() for d in drift.check(snap)]
    for table in snap.tables:
        shown = f'first {len(table.rows)} of ' if len(table.rows) < table.row_count else ''
        lines += ['', f'{table.name} ({shown}{table.row_count} rows)']
        header = [_column_label(c) for c in table.columns]
        body = [[_cell_text(v) for v in row] for row in table.rows]
        widths = [max(len(x) for x in column) for column in zip(header, *body, strict=True)]
        for cells in [header, ['-' * w for w in widths], *body]:
            lines.append('  '.join(x.ljust(w) for x, w in zip(cells, widths, strict=True)).rstrip())
    if not snap.tables:
        lines += ['', 'No tables yet: run `flask db upgrade`.']
    return '\n'.join(lines)


def _cell_text(value):
    """One cell on one terminal line."""
    if value is None:
        return 'NULL'
    return str(snapshot.shown(value)).replace('\r', '\\r').replace('\n', '\\n')


def _column_label(column):
    """'id INTEGER PK', 'name VARCHAR NOT NULL', 'salary INTEGER'."""
    flags = ' PK' if column.primary_key else ('' if column.nullable else ' NOT NULL')
    return f'{column.name} {column.type}{flags}'
