"""See the database without an editor extension: the page at /, /schema.json and `flask schema`.

All three show the same snapshot of the live database, so they are right at every revision.
The routes only answer GET (Flask refuses POST and the rest with 405) and only read.

The page never breaks: each snapshot is one consistent read, retried while a migration changes
the database under it, and a 503 with a Refresh header when that stays impossible.
dbtools/guard.py keeps it to requests addressed to this machine and adds protective headers.
"""

import contextlib
import time

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify, render_template

from dbtools import errors, guard, snapshot

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
        except sa.exc.DBAPIError as exc:
            explained = errors.explain_database(exc)
            if explained is not None:
                raise explained from None
            failure = _first_line(exc)
        except sa.exc.NoSuchTableError as exc:
            failure = f'table {exc} vanished while it was read'
        if attempt < ATTEMPTS:
            time.sleep(PAUSE)
    raise errors.Explained(
        f'could not read a consistent snapshot of the database ({failure})',
        'a migration is probably running; try again when it has finished',
    )


def _first_line(exc):
    """The first line of what the driver said."""
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
    """Base, then every revision up to head: id, message, and whether it is current/head/base."""
    config = current_app.extensions['migrate'].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    heads = set(script.get_heads())
    base = {
        'id': 'base',
        'message': 'empty database, before the first revision',
        'current': not current,
        'head': False,
        'base': True,
    }
    return [base] + [
        {
            'id': rev.revision,
            'message': rev.doc,
            'current': rev.revision in current,
            'head': rev.revision in heads,
            'base': False,
        }
        for rev in reversed(list(script.walk_revisions()))
    ]


@bp.get('/')
def page():
    """The HTML view: revision history and every table with its rows."""
    snap = current_snapshot()
    return render_template('viewer.html', snap=snap, history=history(snap.revision))


@bp.get('/schema.json')
def schema_json():
    """The same snapshot as JSON, plus the history."""
    snap = current_snapshot()
    return jsonify(snap.to_dict() | {'history': history(snap.revision)})


@bp.errorhandler(errors.Explained)
def database_error(exc):
    """An unreachable, locked or changing database: say so plainly (503), and try again soon."""
    return guard.plain_answer(exc.what, exc.hint, 503, Refresh=RELOAD_SECONDS)


@bp.app_template_global()
def revision_lines(snap):
    """The 'Revision: …' line, plus a hint when tables exist without a recorded revision."""
    if snap.revision:
        return [f'Revision: {", ".join(snap.revision)}']
    if not snap.tables:
        return ['Revision: base (empty)']
    why = 'alembic_version is empty' if snap.versioned else 'no alembic_version table'
    return [
        f'Revision: none recorded ({why}), yet the database has tables',
        'Hint: they were not made by `flask db upgrade` (db.create_all()?); if they match a '
        'revision, record it with `flask db stamp <revision>`',
    ]


def render_text(snap):
    """`flask schema`'s output: the revision, then one aligned table per database table."""
    lines = [f'Database: {snap.url}', *revision_lines(snap)]
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
