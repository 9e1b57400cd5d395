"""`flask db rehearse`: run migrations on the real data, report what they would do, keep nothing.

All steps run on one connection inside one transaction that is rolled back at the end, so
the database, and a SQLite file byte for byte, is left as it was. On MySQL/MariaDB, whose DDL
commits itself, they run on a scratch copy of the database that is dropped afterwards
(scratch.py). After every step the rehearsal takes a snapshot with per-column fingerprints
(computed in SQL, see snapshot.fingerprint_sql) and compares it with the one before:

- a column or table that disappears is *renamed* when a new one appeared in the same step
  with the same fingerprint and the same number of rows, and *lost* otherwise;
- a column that stays but whose fingerprint changed, or a table that has fewer rows, is
  *lost* too (a data migration that rewrote values shows up here, on purpose);
- a column or table nothing matched is *new*.

Empty tables and columns hold nothing to lose: they are reported as *dropped*, never as lost.
"""

from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from flask import current_app

from dbtools import errors, safety, scratch, snapshot, targets


@dataclass
class Step:
    """What one revision would do to the data."""

    title: str
    renamed: list = field(default_factory=list)
    new: list = field(default_factory=list)
    dropped: list = field(default_factory=list)  # gone, but held no data
    lost: list = field(default_factory=list)


def rehearse(target='head'):
    """Run every step from the current revision to `target`, roll back; return the starting
    revision, the Steps, and the PostgreSQL sequences that moved on all the same."""
    migrate = current_app.extensions['migrate']
    config = migrate.migrate.get_config()
    script = ScriptDirectory.from_config(config)
    _check_env(script)
    steps = []

    def after_step(ctx, step, heads, run_args):
        """Alembic's on_version_apply hook: compare the data with the step before."""
        nonlocal before
        if ctx.connection is not connection:
            # Only a stock env.py gets here (it migrates on a connection of its own); raising
            # inside the step's transaction rolls that step back.
            raise errors.Explained(*STOCK_ENV)
        after = snapshot.take(connection, row_limit=0, fingerprints=True)
        steps.append(compare(_title(step), before, after))
        before = after

    with (
        safety.migrating(current_app, on_step=after_step),
        # MySQL/MariaDB: DDL commits itself, so the rehearsal runs on a scratch copy instead.
        scratch.rehearsal_engine(migrate.db.engine) as engine,
        engine.connect() as connection,
    ):
        transaction = connection.begin()
        try:
            before = snapshot.take(connection, row_limit=0, fingerprints=True)
            start = before.revision
            goal = targets.check(script, start, target, 'rehearse') or target
            upgrade = _is_upgrade(script, start, goal)
            config.attributes.update(connection=connection, configure_logger=False)
            counters = _sequences(connection)
            (command.upgrade if upgrade else command.downgrade)(config, goal)
        finally:
            transaction.rollback()
        moved = sorted(k for k, v in _sequences(connection).items() if counters.get(k) != v)
        connection.rollback()
    return start, steps, moved


def _sequences(connection):
    """{sequence: last value} on PostgreSQL, whose sequences a rollback does not rewind."""
    if connection.dialect.name != 'postgresql':
        return {}
    rows = connection.execute(
        sa.text(
            'SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema()'
        )
    )
    return dict(rows.all())


# The project's env.py passes rehearsal's connection on to Alembic; the stock one cannot.
STOCK_ENV = (
    'migrations/env.py does not use the connection `flask db rehearse` hands it (it looks '
    "like Flask-Migrate's stock template, written by `flask db init`), so a rehearsal would "
    'change the real database',
    "restore the project's env.py: `git checkout -- migrations/env.py` in server/; every "
    'other command works with either',
)


def _check_env(script):
    """Refuse up front when env.py ignores config.attributes['connection']."""
    env = Path(script.dir, 'env.py')
    if env.exists() and "attributes.get('connection')" not in env.read_text():
        raise errors.Explained(*STOCK_ENV)


def compare(title, before, after):
    """Classify every table and column of `before` as kept, renamed or lost in `after`."""
    result = Step(title)
    old_cols, new_cols = _columns(before), _columns(after)
    gone = [k for k in old_cols if k not in new_cols]
    appeared = [k for k in new_cols if k not in old_cols]
    moved = {}
    for key in gone:
        match = _match(key, old_cols[key], appeared, new_cols)
        if match:
            appeared.remove(match)
            moved[key] = match

    for table in before.tables:
        if after.table(table.name) is None:
            _describe_gone_table(result, table, moved, new_cols)
        else:
            _describe_kept_table(result, table, after.table(table.name), moved)
    claimed = set(moved.values())
    for table in after.tables:
        if before.table(table.name) is None and not claimed & {
            (table.name, c.name) for c in table.columns
        }:
            result.new.append(f'table {table.name}')
        elif before.table(table.name) is not None:
            result.new += [
                f'column {table.name}.{c.name}'
                for c in table.columns
                if (table.name, c.name) in appeared
            ]
    return result


def _describe_gone_table(result, table, moved, new_cols):
    """A table that disappeared: renamed as a whole (perhaps with renamed columns), or lost."""
    targets = [moved.get((table.name, c.name)) for c in table.columns]
    if None not in targets and len({t for t, _ in targets}) == 1:
        new_name = targets[0][0]
        result.renamed.append(
            f'table {table.name} -> {new_name} ({_rows(table.row_count)} carried over)'
        )
        result.renamed += [
            f'column {new_name}.{c.name} -> {new_name}.{n}'
            for c, (_, n) in zip(table.columns, targets, strict=True)
            if n != c.name
        ]
        result.new += [
            f'column {t}.{c}' for t, c in new_cols if t == new_name and (t, c) not in targets
        ]
        return
    if table.row_count:
        result.lost.append(f'table {table.name}: {_rows(table.row_count)}')
    else:
        result.dropped.append(f'table {table.name} (no rows)')
    for c, target in zip(table.columns, targets, strict=True):
        if target is not None:
            result.renamed.append(f'column {table.name}.{c.name} -> {target[0]}.{target[1]}')


def _describe_kept_table(result, old, new, moved):
    """A table that is still there: lost rows, and renamed, dropped or rewritten columns."""
    if new.row_count < old.row_count:
        result.lost.append(f'table {old.name}: {_rows(old.row_count - new.row_count)}')
        return
    added = new.row_count - old.row_count
    if added:
        result.new.append(f'{_rows(added)} in table {old.name}')
    for c in old.columns:
        now = new.column(c.name)
        values = c.fingerprint[0]
        if (old.name, c.name) in moved:
            t, n = moved[(old.name, c.name)]
            result.renamed.append(
                f'column {old.name}.{c.name} -> {t}.{n} ({_values(values)} carried over)'
            )
        elif now is None and values:
            result.lost.append(f'column {old.name}.{c.name}: {_values(values)}')
        elif now is None:
            result.dropped.append(f'column {old.name}.{c.name} (no values)')
        elif added and now.fingerprint[0] < values:
            # New rows change every fingerprint; fewer values than before is still a loss.
            result.lost.append(
                f'column {old.name}.{c.name}: {_values(values - now.fingerprint[0])} emptied'
            )
        elif not added and values and now.fingerprint != c.fingerprint:
            result.lost.append(
                f'column {old.name}.{c.name}: values rewritten '
                f'({_values(values)} before, {_values(now.fingerprint[0])} after)'
            )


def _columns(snap):
    """{(table, column): (row count, fingerprint)} for every column in the snapshot."""
    return {(t.name, c.name): (t.row_count, c.fingerprint) for t in snap.tables for c in t.columns}


def _match(key, print_, candidates, new_cols):
    """The appeared column holding the same values, preferring the same name, then table."""
    same = [k for k in candidates if new_cols[k] == print_]
    same.sort(key=lambda k: (k[1] != key[1], k[0] != key[0]))
    return same[0] if same else None


def _is_upgrade(script, current, target):
    """Whether `target` lies above the current revision (upgrade) or below it (downgrade)."""
    if target == 'base' or target.startswith('-'):
        return False
    if target in ('head', 'heads') or target.startswith('+'):
        return True
    try:
        wanted = script.get_revision(target)
    except Exception as exc:
        raise errors.explain_alembic(str(exc), script) from None
    below = {r.revision for r in script.iterate_revisions(current, 'base')} if current else set()
    return wanted is None or wanted.revision not in below or wanted.revision in current


def _title(step):
    """'upgrade 51f20aa4768b -> 1694ecedb24d (rename department)'."""
    down = ', '.join(step.down_revision_ids) or 'base'
    up = ', '.join(step.up_revision_ids) or 'base'
    script = step.up_revision
    doc = f' ({script.doc})' if script is not None and script.doc else ''
    if step.is_upgrade:
        return f'upgrade {down} -> {up}{doc}'
    return f'downgrade {up} -> {down}{doc}'


def _rows(n):
    """'1 row' or 'n rows'."""
    return _count(n, 'row')


def _values(n):
    """'1 value' or 'n values'."""
    return _count(n, 'value')


def _count(n, noun):
    """'1 noun' or 'n nouns'."""
    return f'{n} {noun}' if n == 1 else f'{n} {noun}s'


def report(steps, start, target, url, moved=()):
    """The text `flask db rehearse` prints, and its exit status (1 when anything is lost)."""
    lines = [f'Rehearsing {" ".join(start) or "base"} -> {target} on {url}; nothing is kept.']
    if not steps:
        lines.append('Nothing to do: the database is already there.')
    for step in steps:
        lines.append(step.title)
        lines += [f'  renamed  {x}' for x in step.renamed]
        lines += [f'  new      {x}' for x in step.new]
        lines += [f'  dropped  {x}' for x in step.dropped]
        lines += [f'  LOST     {x}' for x in step.lost]
        if not (step.renamed or step.new or step.dropped or step.lost):
            lines.append('  no table or column changes')
    lost = sum(len(s.lost) for s in steps)
    if lost:
        lines.append(f'{lost} table(s) or column(s) would lose data. The database is unchanged.')
    else:
        lines.append('Nothing would be lost. The database is unchanged.')
    if moved:
        lines.append(
            f'Except: the sequence(s) {", ".join(moved)} moved on; PostgreSQL never rewinds a '
            'sequence on rollback, so the next new row gets a higher id (harmless).'
        )
    return '\n'.join(lines), 1 if lost else 0
