"""Where the database, the revision files and the models disagree, each in one line with its fix.

Four kinds, shown by the viewer page, /schema.json and `flask schema`:

- the database has tables but no recorded revision (db.create_all() made them);
- the database stands at a revision no file has (deleted, or never pulled);
- the database is behind head: some revisions are not applied yet;
- the models have changes no migration covers, found by Alembic's `compare_metadata` (what
  `flask db migrate` and `flask db check` compare) in a read-only transaction. Only at head:
  below it, the pending revisions explain any difference.

The page polls every 2 s, so the models comparison is remembered until the database's schema,
its revision or the revision files change.
"""

import contextlib
from dataclasses import dataclass

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import current_app

from dbtools import migration_sql

_compared = {}


@dataclass(frozen=True)
class Drift:
    """One disagreement: what is wrong, and the command that fixes it."""

    kind: str
    what: str
    fix: str

    def line(self):
        """The one line `flask schema` prints."""
        return f'{self.what}; run `{self.fix}`'


def check(snap):
    """Every disagreement for the database described by `snap` (a snapshot.Snapshot)."""
    if snap.tables and not snap.revision:
        return [
            Drift(
                'unrecorded',
                'No revision recorded, yet the database has tables: db.create_all() made them, '
                'not a migration',
                'flask db stamp <the revision they match>',
            )
        ]
    scripts = migration_sql.scripts()
    missing = [r for r in snap.revision if not migration_sql.exists(r)]
    if missing:
        return [unknown_revision(r) for r in missing]
    heads = tuple(sorted(scripts.get_heads()))
    if snap.revision != heads:
        pending = list(scripts.iterate_revisions(heads, snap.revision or 'base'))
        if pending:
            count = f'{len(pending)} revision{"" if len(pending) == 1 else "s"}'
            return [
                Drift(
                    'behind head',
                    f'Behind head: {count} not applied yet, up to {", ".join(heads)}',
                    'flask db upgrade',
                )
            ]
    changes = model_changes(snap)
    if changes:
        return [
            Drift(
                'models',
                f'Models ahead: changes no migration covers ({", ".join(changes)})',
                'flask db migrate',
            )
        ]
    return []


def unknown_revision(revision):
    """The database records `revision`, but no revision file has that id."""
    return Drift(
        'unknown revision',
        f'Unknown revision: the database is at revision {revision}, but no file in '
        'migrations/versions has that id (was it deleted?)',
        'flask db stamp <revision> --purge',
    )


def model_changes(snap):
    """What `flask db migrate` would write, in words ('add column departments.budget')."""
    migrate = current_app.extensions['migrate']
    key = (str(migrate.db.engine.url), snap.revision, repr(snap.schema()), id(migrate.db.metadata))
    key += (migration_sql.scripts(),)
    described = _compared.get(key)
    if described is None:
        options = {
            k: v
            for k, v in migrate.configure_args.items()
            if k in ('compare_type', 'compare_server_default')
        }
        with migrate.db.engine.connect() as connection, _read_only(connection):
            context = MigrationContext.configure(connection, opts=options)
            described = [_describe(d) for d in compare_metadata(context, migrate.db.metadata)]
        _compared.clear()
        _compared[key] = described
    return described


@contextlib.contextmanager
def _read_only(connection):
    """A transaction that cannot write, where the database can say so; always rolled back."""
    name = connection.dialect.name
    if name in ('postgresql', 'mysql', 'mariadb'):
        connection.exec_driver_sql('SET TRANSACTION READ ONLY')
    elif name == 'sqlite':
        connection.exec_driver_sql('PRAGMA query_only = ON')
    try:
        yield
    finally:
        connection.rollback()
        if name == 'sqlite':
            connection.exec_driver_sql('PRAGMA query_only = OFF')


def _describe(diff):
    """One compare_metadata entry in words: 'add column departments.budget'."""
    if isinstance(diff, list):  # modify_* entries come as a list of one tuple per column
        diff = diff[0]
    kind, *args = diff
    verb, _, noun = kind.partition('_')
    noun = {'fk': 'foreign key', 'table': 'table', 'column': 'column'}.get(noun, noun)
    if noun == 'table':
        return f'{verb} table {args[0].name}'
    if noun == 'column':
        return f'{verb} column {args[1]}.{args[2].name}'
    if verb == 'modify':
        return f'change {noun} of {args[1]}.{args[2]}'
    obj = args[0]
    table = getattr(obj, 'table', None)
    where = f' on {table.name}' if table is not None else ''
    return f'{verb} {noun} {obj.name or "(unnamed)"}{where}'
