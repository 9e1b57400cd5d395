"""What each revision runs: its upgrade() and downgrade() source, and the SQL of each.

The SQL comes from Alembic's own offline mode (what `flask db upgrade A:B --sql` prints),
rendered for the dialect of the app's database URL. Offline mode never connects, so rendering
runs nothing and leaves the database exactly as it was. It runs env.py like any command, so a
student's own revisions and a stock env.py work too.

Only the revision's own statements are kept. Alembic's bookkeeping around them (the
`-- Running upgrade` comment, BEGIN/COMMIT, and creating or updating alembic_version) is the
same for every revision and would hide the one or two lines that matter; the whole script is
still one `flask db upgrade A:B --sql` away.
"""

import inspect
import io
import re
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path

from alembic import command, util
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app, g

from dbtools import errors, snapshot

# Alembic's comment before each step: '-- Running upgrade A, B -> C'.
_STEP = re.compile(r'-- Running (upgrade|downgrade) (.*?) ?-> ?(.*)')
# The bookkeeping chunks Alembic writes around a revision's own statements.
_NOISE = re.compile(
    rf'(BEGIN|BEGIN TRANSACTION|START TRANSACTION|COMMIT|GO);?'
    rf'|(CREATE TABLE|INSERT INTO|UPDATE|DELETE FROM|DROP TABLE) {snapshot.VERSION_TABLE}\b.*',
    re.S,
)
# Rendered revisions and the parsed ScriptDirectory, for one state of the migrations folder.
_cache = {}
_lock = threading.RLock()


@dataclass(frozen=True)
class Rendered:
    """One direction of one revision: its Python source and its SQL, or why there is none."""

    source: str
    sql: str | None
    error: str | None = None


def scripts():
    """The app's ScriptDirectory, reused until a revision file changes."""
    return _cached('scripts', lambda config: errors.loaded(ScriptDirectory.from_config(config)))


def find(revision):
    """The Script for an id, a unique prefix of one, or head; Explained if there is none."""
    try:
        found = scripts().get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        raise errors.Explained(
            f"there is no revision '{revision}'",
            '`flask db history` lists the ids (a unique prefix is enough); head works too',
        )
    return found


def render(revision, down=False):
    """The source and offline SQL of `revision`'s upgrade() or, with `down`, downgrade()."""
    script = find(revision)
    dialect = current_app.extensions['migrate'].db.engine.url.drivername

    def rendered(config):
        """Render it now: the cache has no copy for this dialect and these files."""
        function = script.module.downgrade if down else script.module.upgrade
        sql, error = _offline_sql(config, script, down)
        return Rendered(source=_source(function), sql=sql, error=error)

    return _cached(('sql', dialect, script.revision, down), rendered)


def _cached(key, make):
    """make(config), kept until a revision file is added, removed or edited."""
    stamp = _stamp()
    # One at a time: Alembic's `context` and `op` are module globals while env.py runs.
    with _lock:
        if _cache.get('stamp') != stamp:
            _cache.clear()
            _cache['stamp'] = stamp
        if key not in _cache:
            _cache[key] = make(current_app.extensions['migrate'].migrate.get_config())
        return _cache[key]


def _stamp():
    """The revision files and their modification times, looked at once per request."""
    if '_migrations_stamp' not in g:
        config = current_app.extensions['migrate'].migrate.get_config()
        folder = Path(ScriptDirectory.from_config(config).versions)
        files = sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob('*.py'))
        g._migrations_stamp = (str(folder), files)
    return g._migrations_stamp


def command_text(revision=None, down=False):
    """`flask db sql`'s output: one header comment, then the SQL (or the reason there is none).

    Without `revision`: the next pending revision, or with `down` the current one, which is
    what a plain `flask db upgrade` or `flask db downgrade` would run.
    """
    if revision is None:
        revision = _default_revision(down)
        if revision is None:
            return None
    script = find(revision)
    rendered = render(script.revision, down)
    if rendered.error:
        raise errors.Explained(
            f'no SQL for revision {script.revision}: {rendered.error}',
            '`flask db rehearse` runs it on your data inside a transaction and keeps nothing',
        )
    parents = ', '.join(util.to_tuple(script.down_revision, default=())) or 'base'
    step = f'{script.revision} -> {parents}' if down else f'{parents} -> {script.revision}'
    dialect = current_app.extensions['migrate'].db.engine.dialect.name
    header = f'-- {"downgrade" if down else "upgrade"} {step} ({script.doc}) on {dialect}; not run'
    return f'{header}\n{rendered.sql or "-- (no statements)"}'


def recorded_revision():
    """The revision(s) the app's database records, read in a transaction that is rolled back."""
    with current_app.extensions['migrate'].db.engine.connect() as connection:
        return snapshot.revision(connection)


def _default_revision(down):
    """The revision a plain upgrade (or downgrade) would run next; None when there is none."""
    current = recorded_revision()
    known = [r for r in current if exists(r)]
    if len(known) < len(current):
        unknown = next(r for r in current if not exists(r))
        raise errors.explain_alembic(f"Can't locate revision identified by '{unknown}'")
    if down:
        return known[0] if known else None
    following = (
        sorted(scripts().get_bases())
        if not known
        else sorted(n for r in known for n in scripts().get_revision(r).nextrev)
    )
    return following[0] if following else None


def exists(revision):
    """Whether a revision file has this id."""
    try:
        return scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _offline_sql(config, script, down):
    """Run Alembic's offline mode over exactly this one step; (sql, None) or (None, reason)."""
    parent = _parent(script)
    if down:
        step, run = f'{script.revision}:{parent or "base"}', command.downgrade
    else:
        step, run = f'{parent}:{script.revision}' if parent else script.revision, command.upgrade
    buffer = io.StringIO()
    config.output_buffer = buffer
    # Keep the caller's logging: env.py would otherwise load alembic.ini's logging setup.
    config.attributes['configure_logger'] = False
    try:
        run(config, step, sql=True)
    except Exception as exc:
        # Whatever stops it (a student's own bug too) is shown in place of the SQL.
        return None, _why(exc)
    finally:
        config.output_buffer = None
    return statements(buffer.getvalue(), script.revision), None


def statements(script_text, revision):
    """`revision`'s own statements from an offline script: its step only (a merge's start
    can bring other steps along), without Alembic's bookkeeping."""
    kept, ours = [], False
    for chunk in (c.strip() for c in script_text.split('\n\n')):
        step = _STEP.fullmatch(chunk)
        if step:
            direction, source, destination = step.groups()
            ours = (source if direction == 'downgrade' else destination).strip() == revision
        elif ours and chunk and not _NOISE.fullmatch(chunk):
            kept.append(chunk)
    return '\n'.join(line.rstrip() for chunk in kept for line in chunk.splitlines())


def _why(exc):
    """One line on why a revision has no offline SQL."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if 'requires a live database connection' in reason:
        return (
            'batch mode on this database copies the table and needs its live definition, '
            'which offline rendering does not read (pass copy_from= to batch_alter_table)'
        )
    return f'Alembic could not render it: {reason}'


def _parent(script):
    """The revision before `script` (the first parent of a merge), or None at the start."""
    down = script.down_revision
    return down[0] if isinstance(down, tuple) else down


def _source(function):
    """A function's source, dedented, exactly as the revision file has it."""
    return textwrap.dedent(inspect.getsource(function)).rstrip()
