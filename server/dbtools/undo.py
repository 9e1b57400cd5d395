"""On MySQL and MariaDB, undo what a failed revision had already applied.

Their DDL commits itself: a revision that fails after `op.rename_table` leaves the rename in
place, whatever transaction Alembic opened. So while a migrating command runs, every `op.*`
call of the current revision is noted (through Alembic's registry of operation
implementations, under the dialect's own name, so SQLite and PostgreSQL never reach this code).
When the revision fails, the noted operations are reversed, newest first, on a fresh
connection: a rename is renamed back, what was added or created is dropped, a changed column
gets its old definition back. The database then stands exactly where the last revision that
completed left it, alembic_version included. Inside `op.batch_alter_table`, operations reach
the database only when the block ends; the database is asked which of them did.

Some operations cannot be reversed: a dropped column or table takes its data along, and raw SQL
(`op.execute`) may have changed anything. Rows written by raw SQL after the last DDL statement
of the revision are rolled back with the revision's transaction; anything else stops the undo
there, and the error says which operation was applied and what it lost.
"""

import contextlib
import contextvars
import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.operations import ops as alembic_ops

from dbtools import errors, mysql

VERSION_TABLE = 'alembic_version'
_recording = contextvars.ContextVar('undo_recording', default=None)
_installed = []


@dataclass
class Applied:
    """One operation that reached the database, and how to take it back."""

    label: str  # op.rename_table('department', 'departments')
    inverse: object = None  # the operation that reverses it, or None
    lost: str = ''  # what cannot come back, when inverse is None
    dml: bool = False  # rows written without DDL: the revision's rollback undoes them
    # Batch mode applies its queue only when the block ends: took_effect(inspector) then
    # tells whether this one reached the database.
    took_effect: object = None


@contextlib.contextmanager
def undoing(migration_engine):
    """Around one migration command: on MySQL/MariaDB, undo a failed revision's ops."""
    if not mysql.is_mysql(migration_engine):
        yield _nothing
        return
    _install()
    recorder = _Recorder(migration_engine)
    token = _recording.set(recorder)
    try:
        yield recorder.step_done
    except Exception as exc:
        _recording.reset(token)
        token = None
        explained = recorder.undo(exc) or _known_complaint(exc)
        if explained is None:
            raise
        raise explained from exc
    finally:
        if token is not None:
            _recording.reset(token)


def _known_complaint(exc):
    """Alembic's MySQL-only complaints (existing_type) as one line and a hint, else None."""
    if mysql.explain(str(exc)) is None:
        return None
    failed, what, hint = _failure(exc)
    return errors.Explained(f'{failed}: {what}', hint)


def _nothing(*_args, **_kwargs):
    """step_done where there is nothing to undo."""


class _Recorder:
    """The operations the running revision has applied so far on one database."""

    def __init__(self, engine):
        self.engine = engine
        self.applied = []
        self.had_version_table = _has_version_table(engine)

    def step_done(self, *_args, **_kwargs):
        """A revision completed (Alembic's on_version_apply): its operations are final."""
        self.applied = []
        self.had_version_table = True

    def watches(self, operations):
        """Whether `operations` works on this recorder's database (not a rehearsal copy)."""
        url = operations.migration_context.connection.engine.url
        return (url.host, url.port, url.database) == (
            self.engine.url.host,
            self.engine.url.port,
            self.engine.url.database,
        )

    def undo(self, exc):
        """Reverse the applied operations; the Explained error to raise, or None if none."""
        made_version_table = not self.had_version_table and _has_version_table(self.engine)
        if any(e.took_effect for e in self.applied):
            with self.engine.connect() as connection:
                self.applied = _without_unapplied_batch(self.applied, connection)
        if not self.applied and not made_version_table:
            return None
        pending = [e for e in self.applied if not _rolled_back(e, self.applied)]
        # Undo stops at the newest operation that cannot be undone; older ones stay applied.
        irreversible = [i for i, e in enumerate(pending) if e.inverse is None]
        cut = irreversible[-1] + 1 if irreversible else 0
        kept, reversible = pending[:cut], pending[cut:]
        with self.engine.connect() as connection:
            where = _revision(connection)
            operations = Operations(MigrationContext.configure(connection))
            done = []
            for entry in reversed(reversible):
                try:
                    operations.invoke(entry.inverse)
                except sa.exc.DBAPIError as undo_error:
                    return _undo_failed(exc, entry, done, undo_error, where)
                done.append(entry)
            if made_version_table and not kept and not where:
                connection.exec_driver_sql(f'DROP TABLE {VERSION_TABLE}')
            connection.commit()
        if not self.applied:
            return None
        return _explain(exc, done, kept, where)


def _without_unapplied_batch(applied, connection):
    """`applied` less the operations of batch blocks that never reached the database.

    Batch mode queues its operations and applies them when the block ends; a block that
    failed before then, or part-way through, applied none or only some of them. Whether each
    one took effect is read from the database.
    """
    inspector = sa.inspect(connection)
    return [e for e in applied if e.took_effect is None or e.took_effect(inspector)]


def _rolled_back(entry, applied):
    """Rows written after the revision's last DDL statement: its rollback took them back."""
    later = applied[applied.index(entry) + 1 :]
    return entry.dml and all(e.dml for e in later)


def _explain(exc, done, kept, where):
    """The one line and hint for a failed revision, once its operations were undone."""
    failed, reason, hint = _failure(exc)
    at = where or 'base (empty)'
    undone = ', '.join(e.label for e in done) or 'nothing'
    if not kept:
        return errors.Explained(
            f'{failed}: {reason}; MySQL/MariaDB had committed its DDL, so its operations were '
            f'undone, newest first ({undone}): the database is back at {at}',
            hint,
        )
    last = kept[-1]
    still = ', '.join(e.label for e in kept[:-1])
    return errors.Explained(
        f'{failed}: {reason}; {last.label} had been applied and cannot be undone '
        f'({last.lost}); undone after it: {undone}'
        + (f'; still applied before it: {still}' if still else '')
        + f'; alembic_version still says {at}',
        'MySQL/MariaDB commit each DDL statement at once: restore the lost data from a backup, '
        'or finish that revision by hand and record it with `flask db stamp <revision>`',
    )


def _undo_failed(exc, entry, done, undo_error, where):
    """The undo itself failed: say how far it got."""
    failed, reason, _ = _failure(exc)
    undone = ', '.join(e.label for e in done) or 'nothing'
    return errors.Explained(
        f'{failed}: {reason}; undoing {entry.label} failed too '
        f'({_first_line(undo_error)}); undone before that: {undone}; alembic_version still '
        f'says {where or "base (empty)"}',
        'MySQL/MariaDB commit each DDL statement at once: compare `flask schema` with that '
        'revision and put the difference right by hand',
    )


def _failure(exc):
    """(which revision failed, why, what to do) in the words errors.py uses."""
    known = mysql.explain(str(exc))
    frame = errors.revision_frame(exc)
    if frame is None:
        failed, hint = 'a migration failed', 'fix that revision, then run the command again'
    else:
        module, function = frame.f_globals, frame.f_code.co_name
        doc = (module.get('__doc__') or '').strip().splitlines()
        title = f' ({doc[0]})' if doc else ''
        failed = f'revision {module["revision"]}{title} failed in {function}()'
        hint = (
            f'fix {function}() in migrations/versions/{Path(frame.f_code.co_filename).name}, '
            'then run the command again'
        )
    if known:
        return failed, known[0], known[1]
    if isinstance(exc, errors.Explained):
        return failed, exc.what, exc.hint
    if isinstance(exc, sa.exc.DBAPIError):
        return failed, _first_line(exc.orig), hint
    return failed, f'{type(exc).__name__}: {_first_line(exc)}', hint


def _first_line(exc):
    """The first line of an exception's text."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _has_version_table(engine):
    """Whether alembic_version exists, asked on a connection of its own."""
    with engine.connect() as connection:
        return sa.inspect(connection).has_table(VERSION_TABLE)


def _revision(connection):
    """The revision(s) alembic_version records, as text; '' for none."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return ''
    return ', '.join(connection.scalars(sa.text(f'SELECT version_num FROM {VERSION_TABLE}')))


# --- noting operations as Alembic applies them ---


def _install():
    """Register, once, a noting wrapper around every operation for the MySQL dialects."""
    if _installed:
        return
    # Alembic's Dispatcher looks up (operation class, dialect) before (class, 'default'); the
    # public implementation_for() registers 'default' only, hence the registry itself.
    registry = Operations._to_impl
    defaults = [
        (target, fn)
        for (target, qualifier), fn in list(registry._registry.items())
        if qualifier == 'default' and isinstance(target, type)
    ]
    for target, fn in defaults:
        for dialect in mysql.DIALECTS:
            registry.dispatch_for(target, qualifier=dialect, replace=True)(_noted(fn))
    _installed.append(True)


def _noted(default):
    """`default` (Alembic's implementation of one operation), noting what it applied."""

    def run(operations, operation):
        recorder = _recording.get()
        if recorder is None or not recorder.watches(operations):
            return default(operations, operation)
        block = operations.impl
        if block is operations.migration_context.impl:
            prepared = _prepare(operations.get_bind(), operation)
            result = default(operations, operation)
            recorder.applied.append(prepared)
            return result
        # Inside op.batch_alter_table: queued now, applied one by one when the block ends
        # (unless the table is recreated, which copies it as a whole).
        if getattr(block, 'recreate', 'auto') == 'always':
            prepared = Applied(_label(operation), lost='batch mode recreated the table')
        else:
            prepared = _prepare(operations.get_bind(), operation)
        prepared.took_effect = _effect_check(operations.get_bind(), operation)
        recorder.applied.append(prepared)
        return default(operations, operation)

    return run


def _prepare(bind, operation):
    """Before `operation` runs: what will undo it, or what it loses (reads the database)."""
    label = _label(operation)
    o = alembic_ops
    if isinstance(operation, o.RenameTableOp):
        inverse = o.RenameTableOp(
            operation.new_table_name, operation.table_name, schema=operation.schema
        )
        return Applied(label, inverse)
    if isinstance(operation, o.CreateTableOp):
        return Applied(label, o.DropTableOp(operation.table_name, schema=operation.schema))
    if isinstance(operation, o.AddColumnOp):
        name = operation.column.name
        return Applied(label, o.DropColumnOp(operation.table_name, name, schema=operation.schema))
    if isinstance(operation, o.AlterColumnOp):
        return Applied(label, _reverse_alter(bind, operation), lost='the column was not found')
    if isinstance(operation, (o.CreateIndexOp, o.AddConstraintOp)):
        return Applied(label, operation.reverse())
    if isinstance(operation, o.DropColumnOp):
        values = _count(bind, operation.table_name, operation.column_name)
        return Applied(label, lost=f'{_lost(values, "value")} with the column')
    if isinstance(operation, o.DropTableOp):
        rows = _count(bind, operation.table_name)
        return Applied(label, lost=f'{_lost(rows, "row")} with the table')
    if isinstance(operation, (o.ExecuteSQLOp, o.BulkInsertOp)):
        dml = isinstance(operation, o.BulkInsertOp) or _is_dml(operation.sqltext)
        return Applied(label, lost='raw SQL: what it changed is not known', dml=dml)
    return Applied(label, lost='this kind of operation is not undone automatically')


def _effect_check(bind, operation):
    """A test, on an inspector, of whether `operation` has reached the database."""
    o = alembic_ops
    table, schema = getattr(operation, 'table_name', None), getattr(operation, 'schema', None)

    def columns(inspector):
        """{name: (type, nullable, default)} of the table's columns now."""
        return {
            c['name']: (str(c['type']), c['nullable'], c.get('default'))
            for c in inspector.get_columns(table, schema=schema)
        }

    if isinstance(operation, o.AddColumnOp):
        return lambda inspector: operation.column.name in columns(inspector)
    if isinstance(operation, o.DropColumnOp):
        return lambda inspector: operation.column_name not in columns(inspector)
    if isinstance(operation, o.AlterColumnOp):
        if operation.modify_name is not None:
            return lambda inspector: operation.modify_name in columns(inspector)
        before = columns(sa.inspect(bind)).get(operation.column_name)
        return lambda inspector: columns(inspector).get(operation.column_name) != before
    if isinstance(operation, (o.CreateIndexOp, o.DropIndexOp)):
        wanted = isinstance(operation, o.CreateIndexOp)
        return lambda inspector: (
            wanted
            == any(
                i['name'] == operation.index_name
                for i in inspector.get_indexes(operation.table_name, schema=schema)
            )
        )
    return lambda inspector: True


def _reverse_alter(bind, operation):
    """An alter_column that gives the column back its name and definition from before."""
    found = sa.inspect(bind).get_columns(operation.table_name, schema=operation.schema)
    before = next((c for c in found if c['name'] == operation.column_name), None)
    if before is None:  # the operation itself will fail and say so
        return None
    old_default = sa.text(before['default']) if before.get('default') is not None else None
    now = {
        'type': operation.modify_type if operation.modify_type is not None else before['type'],
        'nullable': (
            operation.modify_nullable
            if operation.modify_nullable is not None
            else before['nullable']
        ),
        'server_default': (
            operation.modify_server_default
            if operation.modify_server_default is not False
            else old_default
        ),
    }
    changes = {}
    if operation.modify_name is not None:
        changes['modify_name'] = operation.column_name
    if operation.modify_type is not None:
        changes['modify_type'] = before['type']
    if operation.modify_nullable is not None:
        changes['modify_nullable'] = before['nullable']
    if operation.modify_server_default is not False:
        changes['modify_server_default'] = old_default
    return alembic_ops.AlterColumnOp(
        operation.table_name,
        operation.modify_name or operation.column_name,
        schema=operation.schema,
        existing_type=now['type'],
        existing_nullable=now['nullable'],
        existing_server_default=now['server_default'],
        existing_comment=before.get('comment'),
        **changes,
    )


def _count(bind, table, column=None):
    """Rows of `table`, or non-null values of `column` in it."""
    counted = sa.func.count(sa.column(column)) if column else sa.func.count()
    return bind.scalar(sa.select(counted).select_from(sa.table(table)))


def _is_dml(sqltext):
    """Whether SQL only reads or writes rows (which the revision's rollback can take back)."""
    if isinstance(sqltext, (sa.Insert, sa.Update, sa.Delete, sa.Select)):
        return True
    text = str(sqltext).lstrip().upper()
    return re.match(r'(INSERT|UPDATE|DELETE|REPLACE|SELECT)\b', text) is not None


def _label(operation):
    """The operation as a revision writes it: op.rename_table('department', 'departments')."""
    o = alembic_ops
    if isinstance(operation, o.RenameTableOp):
        args = (operation.table_name, operation.new_table_name)
    elif isinstance(operation, (o.CreateTableOp, o.DropTableOp)):
        args = (operation.table_name,)
    elif isinstance(operation, o.AddColumnOp):
        args = (operation.table_name, operation.column.name)
    elif isinstance(operation, (o.AlterColumnOp, o.DropColumnOp)):
        args = (operation.table_name, operation.column_name)
    elif isinstance(operation, o.CreateIndexOp):
        args = (operation.index_name, operation.table_name)
    elif isinstance(operation, o.ExecuteSQLOp):
        sql = ' '.join(str(operation.sqltext).split())
        args = (sql if len(sql) <= 60 else sql[:57] + '...',)
    else:
        return f'op.{_op_name(operation)}(...)'
    extra = ''
    if isinstance(operation, o.AlterColumnOp) and operation.modify_name:
        extra = f', new_column_name={operation.modify_name!r}'
    return f'op.{_op_name(operation)}({", ".join(repr(a) for a in args)}{extra})'


def _op_name(operation):
    """rename_table for RenameTableOp, add_column for AddColumnOp, ..."""
    name = type(operation).__name__.removesuffix('Op')
    return re.sub(r'(?<!^)(?=[A-Z])', '_', name).lower().replace('execute_s_q_l', 'execute')


def _lost(n, noun):
    """'1 value was lost' or 'n values were lost'."""
    return f'1 {noun} was lost' if n == 1 else f'{n} {noun}s were lost'
