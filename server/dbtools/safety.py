"""Flask-Migrate's own `flask db` commands, with the project's safety nets around them.

The nets live here and not in migrations/env.py, so that a student who runs `flask db init`
again, and gets Flask-Migrate's stock env.py, loses none of them:

- one migrating command at a time, and one transaction per revision (atomic.py);
- on MySQL/MariaDB, a failed revision's operations undone (undo.py);
- rename warnings for `flask db migrate` (renames.py);
- targets checked before anything runs (targets.py);
- mistakes told in one line and a hint (errors.py).

The stock env.py hands Migrate's `configure_args` to Alembic's context.configure(); that is
where the transaction settings and the rename review go in. Everything else wraps the command.
"""

import contextlib
import functools

import flask_migrate
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from flask.cli import with_appcontext

from dbtools import atomic, errors, renames, snapshot, targets, undo

# Commands that write to the database take the migration lock; the others only read.
WRITING = {'upgrade', 'downgrade', 'stamp'}
# Commands that need neither the migrations folder nor the database (init makes the folder).
FOLDERLESS = {'init', 'list-templates'}


def wrap(db_group):
    """Put every Flask-Migrate command of the `db` group behind the safety nets, once."""
    for name, command in db_group.commands.items():
        function = getattr(flask_migrate, name.replace('-', '_'), None)
        # Flask-Migrate's catch_errors keeps the function it wraps; we do our own reporting.
        unwrapped = getattr(function, '__wrapped__', None)
        if unwrapped is None or getattr(command, 'guarded', False):
            continue
        command.callback = with_appcontext(_guarded(name, unwrapped))
        command.guarded = True


def _guarded(name, function):
    """`function` (a Flask-Migrate command) run inside migrating() and reported()."""

    @functools.wraps(function)
    def run(**params):
        if name in FOLDERLESS:
            with errors.reported():
                return function(**params)
        with errors.reported():
            script = scripts(params.get('directory'))
        # Offline (--sql) runs only print SQL; they take no lock.
        write = name in WRITING and not params.get('sql')
        with errors.reported(script=script), migrating(current_app, write=write):
            if name in ('upgrade', 'downgrade') and not params.get('sql'):
                check_target(script, params['revision'], name)
            function(**params)

    return run


def scripts(directory=None):
    """The app's migrations folder as Alembic reads it; Explained when there is none."""
    config = current_app.extensions['migrate'].migrate.get_config(directory)
    try:
        script = ScriptDirectory.from_config(config)
    except CommandError:
        folder = config.get_main_option('script_location')
        raise errors.Explained(
            f'there is no migrations folder at {folder}',
            "from server/, `git checkout -- migrations` brings the project's back; "
            "`flask db init` makes an empty one with Flask-Migrate's own env.py",
        ) from None
    return errors.loaded(script)


def check_target(script, target, command):
    """Refuse a target that cannot work, before anything runs; see targets.py."""
    with current_app.extensions['migrate'].db.engine.connect() as connection:
        current = snapshot.revision(connection)
    return targets.check(script, current, target, command)


def _nothing(**_info):
    """The step callback of a command that changes nothing."""


@contextlib.contextmanager
def migrating(app, write=True, on_step=None):
    """Run the enclosed Alembic command with the safety nets; `on_step(**info)` after each
    revision, inside its transaction."""
    migrate = app.extensions['migrate']
    engine = atomic.prepare(migrate.db.engine)
    saved = dict(migrate.configure_args)
    try:
        with (
            atomic.one_at_a_time(engine) if write else contextlib.nullcontext(),
            # MySQL/MariaDB: undo what a failed revision applied (their DDL commits itself).
            undo.undoing(engine) if write else contextlib.nullcontext(_nothing) as step_done,
        ):
            callbacks = [on_step, step_done] if on_step else [step_done]
            migrate.configure_args.update(atomic.configure_args(callbacks))
            migrate.configure_args.setdefault(
                'process_revision_directives', renames.process_revision_directives
            )
            yield
    finally:
        migrate.configure_args.clear()
        migrate.configure_args.update(saved)
