"""Click wiring for `flask schema`, `flask seed`, `flask db rehearse`, and the safety nets
around Flask-Migrate's own commands; the work is elsewhere."""

import contextlib
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from dbtools import errors


def register(app):
    """Add the commands to the app's CLI and to Flask-Migrate's `db` group."""
    from flask_migrate.cli import db as db_group

    from dbtools import safety

    safety.wrap(db_group)
    app.cli.add_command(schema)
    app.cli.add_command(seed)
    app.cli.add_command(lesson)
    db_group.add_command(rehearse)
    db_group.add_command(sql)
    # Let `flask db downgrade -1` mean what the lesson says, instead of click rejecting
    # "-1" as an unknown option (and let `flask db upgrade -1` get a real answer).
    for name in ('upgrade', 'downgrade'):
        db_group.commands[name].context_settings['ignore_unknown_options'] = True


@click.command()
@with_appcontext
def schema():
    """Print the live database: revision, then every table with its first rows."""
    from dbtools import viewer

    with errors.reported():
        click.echo(viewer.render_text(viewer.current_snapshot()))


@click.command()
@click.option(
    '--rows',
    type=click.IntRange(min=1),
    default=None,
    help='Add this many generated employees and departments instead.',
)
@with_appcontext
def seed(rows):
    """Add the lesson's rows to the lesson tables that exist (twice adds nothing)."""
    from dbtools import seeding

    engine = current_app.extensions['migrate'].db.engine
    with errors.reported(), engine.begin() as connection:
        if rows is None:
            added = seeding.seed_lesson(connection)
        else:
            tables = seeding.lesson_tables(connection)
            with click.progressbar(length=rows * len(tables), label='Inserting rows') as bar:
                added = seeding.seed_generated(connection, rows, tables, bar.update)
    if not added:
        click.echo('No lesson tables yet: run `flask db upgrade` first.')
    for table, count in added.items():
        click.echo(f'{table}: {count} row{"" if count == 1 else "s"} added')


# ignore_unknown_options lets `-1` through as a revision instead of an unknown option.
@click.command(context_settings={'ignore_unknown_options': True})
@click.argument('revision', default='head')
@with_appcontext
def rehearse(revision):
    """Dry-run migrations to REVISION on the real data and report what would be lost."""
    from dbtools import rehearsal, snapshot

    engine = current_app.extensions['migrate'].db.engine
    with errors.reported(status=2):
        start, steps, moved = rehearsal.rehearse(revision)
    url = snapshot.masked_url(engine.url)
    text, status = rehearsal.report(steps, start, revision, url, moved)
    click.echo(text)
    sys.exit(status)


@click.group()
def lesson():
    """The code-along: start it, check your progress, see the solution."""


@lesson.command()
@click.option('--force', is_flag=True, help='Throw away your own models.py and revisions.')
@with_appcontext
def start(force):
    """Go to the lesson's start: step 1's models.py, no revisions, an empty database."""
    from dbtools import codealong

    migrate = current_app.extensions['migrate']
    with errors.reported(status=1):
        said = codealong.start(Path(migrate.directory), migrate.db.engine, force)
    click.echo('\n'.join(said))


@lesson.command()
@with_appcontext
def check():
    """Grade your revisions step by step on a scratch database (yours is not touched)."""
    from dbtools import lesson as facts

    migrations = Path(current_app.extensions['migrate'].directory)
    report = facts.check(migrations, migrations.parent / 'models.py')
    text, status = facts.render(report)
    click.echo(text)
    engine = current_app.extensions['migrate'].db.engine
    # Where the student's own database stands; unreadable, it is simply not mentioned.
    with contextlib.suppress(sa.exc.SQLAlchemyError), engine.connect() as connection:
        _script, chain, _problem = facts.revision_chain(migrations)
        click.echo(facts.own_database(connection, chain))
    sys.exit(status)


@lesson.command()
@click.argument('step', type=click.IntRange(1, 4), required=False)
@click.option('--restore', is_flag=True, help='Put the finished lesson back instead.')
@click.option('--force', is_flag=True, help='With --restore: throw away your own files.')
@with_appcontext
def solution(step, restore, force):
    """Print the reference models.py and revision of STEP (default: your next step)."""
    from dbtools import codealong

    migrate = current_app.extensions['migrate']
    migrations = Path(migrate.directory)
    if restore:
        with errors.reported(status=1):
            said = codealong.restore(migrations, migrate.db.engine, force)
        click.echo('\n'.join(said))
        return
    click.echo(codealong.solution(step or codealong.next_step(migrations)))


@click.command()
@click.argument('revision', required=False)
@click.option('--down', is_flag=True, help="Show the downgrade's SQL instead.")
@with_appcontext
def sql(revision, down):
    """Print the SQL a revision runs on this database (default: the next pending one)."""
    from dbtools import migration_sql

    with errors.reported():
        text = migration_sql.command_text(revision, down)
    if text is None:
        where = 'base: there is nothing to downgrade' if down else 'head: nothing is pending'
        text = f'The database is at {where}.'
    click.echo(text)
