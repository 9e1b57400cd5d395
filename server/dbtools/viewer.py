"""See the database without an editor extension: the page at /, /schema.json and `flask schema`.

All three show the same snapshot of the live database, so they are right at every revision.
The routes only answer GET (Flask refuses POST and the rest with 405) and only read.
"""

from dataclasses import asdict

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template, request

from dbtools import drift, errors, migration_sql, snapshot

bp = Blueprint('viewer', __name__, template_folder='templates')


def current_snapshot():
    """The app database's snapshot, read in a transaction that is rolled back."""
    with current_app.extensions['migrate'].db.engine.connect() as connection:
        return snapshot.take(connection)


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


@bp.errorhandler(sa.exc.DBAPIError)
def database_error(exc):
    """An unreachable or locked database: say so plainly (503), never a traceback page."""
    explained = errors.explain_database(exc)
    if explained is None:
        raise exc
    if request.path.endswith('.json'):
        return jsonify(error=explained.what, hint=explained.hint), 503
    return (
        f'Error: {explained.what}\nHint: {explained.hint}\n',
        503,
        {'Content-Type': 'text/plain; charset=utf-8', 'Refresh': '5'},
    )


def render_text(snap):
    """`flask schema`'s output: the revision and any drift, then one aligned table per table."""
    lines = [f'Database: {snap.url}', f'Revision: {", ".join(snap.revision) or "base (empty)"}']
    lines += [d.line() for d in drift.check(snap)]
    for table in snap.tables:
        shown = f'first {len(table.rows)} of ' if len(table.rows) < table.row_count else ''
        lines += ['', f'{table.name} ({shown}{table.row_count} rows)']
        header = [_column_label(c) for c in table.columns]
        body = [['NULL' if v is None else str(v) for v in row] for row in table.rows]
        widths = [max(len(x) for x in column) for column in zip(header, *body, strict=True)]
        for cells in [header, ['-' * w for w in widths], *body]:
            lines.append('  '.join(x.ljust(w) for x, w in zip(cells, widths, strict=True)).rstrip())
    if not snap.tables:
        lines += ['', 'No tables yet: run `flask db upgrade`.']
    return '\n'.join(lines)


def _column_label(column):
    """'id INTEGER PK', 'name VARCHAR NOT NULL', 'salary INTEGER'."""
    flags = ' PK' if column.primary_key else ('' if column.nullable else ' NOT NULL')
    return f'{column.name} {column.type}{flags}'
