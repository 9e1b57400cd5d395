"""Drive a test database through the revision chain, in process, and describe what it holds.

Revisions are found by walking the chain from base, never by id or file name, so the same
tests grade any correct solution whatever its ids.
"""

import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

import flask_migrate
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import Migrate
from sqlalchemy.pool import NullPool

import dbtools
from dbtools import lesson, rehearsal, safety, seeding, snapshot
from models import db

SERVER = Path(__file__).resolve().parents[1]
SOLUTION = SERVER / 'solution'
# The env.py that `flask db init` writes.
STOCK_ENV = Path(flask_migrate.__file__).parent / 'templates' / 'flask' / 'env.py'


# Climbs made once per run, by (versions folder, its files, step, seeded): see Chain.climb.
_CLIMBED = {}
_CLIMBS = tempfile.TemporaryDirectory(prefix='lesson-climbs-')


def _files(folder):
    """The revision files in `folder` and when each last changed."""
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in Path(folder).glob('*.py')))


class Chain:
    """One app's migrations and database."""

    def __init__(self, app):
        self.app = app
        with app.app_context():
            self.config = app.extensions['migrate'].migrate.get_config()
        # Keep pytest's log capture: env.py would otherwise reconfigure logging every run.
        self.config.attributes['configure_logger'] = False
        self.script = ScriptDirectory.from_config(self.config)
        self.revisions = [r.revision for r in reversed(list(self.script.walk_revisions()))]

    def rev(self, step):
        """The revision id of step 1..n, or 'base' for step 0."""
        return self.revisions[step - 1] if step else 'base'

    def upgrade(self, target='head'):
        """`flask db upgrade target`, in process, with the same safety nets."""
        with self.app.app_context(), safety.migrating(self.app):
            command.upgrade(self.config, target)

    def downgrade(self, target):
        """`flask db downgrade target`, in process, with the same safety nets."""
        with self.app.app_context(), safety.migrating(self.app):
            command.downgrade(self.config, target)

    def snapshot(self, **options):
        """What the database holds now (see dbtools/snapshot.py)."""
        with self.app.app_context(), db.engine.connect() as connection:
            return snapshot.take(connection, **options)

    def seed(self):
        """Insert the lesson's rows into the lesson tables that exist now."""
        with self.app.app_context(), db.engine.begin() as connection:
            seeding.seed_lesson(connection)

    def climb(self, to_step, seed=True):
        """Upgrade from base one revision at a time, seeding where the lesson does.

        On a SQLite file that does not exist yet, a climb this chain already made once in
        this run is copied instead of made again: the copy holds the very bytes the real
        climb left, and a fresh test database costs a file copy, not four migrations.
        """
        path = self._sqlite_file()
        key = (self.script.versions, _files(self.script.versions), to_step, seed)
        if path is not None and not path.exists() and key in _CLIMBED:
            shutil.copyfile(_CLIMBED[key], path)
            return
        for step in range(1, to_step + 1):
            self.upgrade(self.rev(step))
            if seed and step in lesson.SEED_AT:
                self.seed()
        if path is not None and path.exists() and key not in _CLIMBED:
            with self.app.app_context():
                db.engine.dispose()  # nothing half-written stays in a pooled connection
            _CLIMBED[key] = Path(_CLIMBS.name) / f'{len(_CLIMBED)}.db'
            shutil.copyfile(path, _CLIMBED[key])

    def _sqlite_file(self):
        """The app's SQLite file, or None on a server."""
        url = sa.engine.make_url(self.app.config['SQLALCHEMY_DATABASE_URI'])
        return Path(url.database) if url.get_backend_name() == 'sqlite' else None

    def state(self):
        """All a failed or dry run must leave alone: table names (alembic_version too),
        recorded revision, schema and rows."""
        snap = self.snapshot()
        with self.app.app_context():
            names = sorted(sa.inspect(db.engine).get_table_names())
        return names, snap.revision, snap.schema(), rows(snap)

    def execute(self, sql):
        """Run one SQL statement and commit."""
        with self.app.app_context(), db.engine.begin() as connection:
            connection.execute(sa.text(sql))


@contextlib.contextmanager
def with_password(server_database, password):
    """The URL with a password that connects: on a trust-auth PostgreSQL any password does;
    MySQL/MariaDB check it, so there a user with that password is made for the test."""
    url = sa.engine.make_url(server_database).set(password=password)
    if url.get_backend_name() != 'mysql':
        yield url
        return
    admin = sa.create_engine(server_database, poolclass=NullPool)
    user = f'viewer_{uuid.uuid4().hex[:8]}'
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE USER '{user}'@'%%' IDENTIFIED BY '{password}'")
        # Its own database, and the scratch copies `flask db rehearse` makes beside it.
        for database in (url.database, f'{url.database}_rehearsal_%%'):
            connection.exec_driver_sql(f"GRANT ALL ON `{database}`.* TO '{user}'@'%%'")
    try:
        yield url.set(username=user)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP USER '{user}'@'%%'")


def tables(snap):
    """{table: [(column, type, nullable, primary key)]}, comparable with lesson.SCHEMAS."""
    return {
        t.name: [(c.name, c.type, c.nullable, c.primary_key) for c in t.columns]
        for t in snap.tables
    }


def rows(snap):
    """{table: [row tuples]} for every table, in primary-key order."""
    return {t.name: list(t.rows) for t in snap.tables}


def losses(before, after):
    """What a step threw away, as `flask db rehearse` words it: ['table department: 2 rows']."""
    return rehearsal.compare('', before, after).lost


def reference_migrations(target):
    """Copy server/migrations to `target` with the reference env.py and revisions, so a
    student's stock env.py (from `flask db init`) or own revisions change no tool test."""
    ignore = shutil.ignore_patterns('__pycache__', 'versions')
    shutil.copytree(SERVER / 'migrations', target, ignore=ignore)
    shutil.copytree(SOLUTION / 'versions', target / 'versions', ignore=ignore)
    shutil.copy(SOLUTION / 'env.py', target / 'env.py')
    return target


def copy_migrations(tmp_path, *extra, drop=(), stock_env=False):
    """A scratch copy of the reference migrations with extra revisions added and named files
    removed.

    Each extra revision is (id, parent id, upgrade body, downgrade body). With `stock_env`,
    env.py is Flask-Migrate's own template, as `flask db init` writes it.
    """
    target = reference_migrations(tmp_path / 'migrations')
    if stock_env:
        shutil.copy(STOCK_ENV, target / 'env.py')
    for path in target.glob('versions/*.py'):
        if any(path.name.startswith(rev) for rev in drop):
            path.unlink()
    for rev, parent, upgrade, downgrade in extra:
        (target / 'versions' / f'{rev}_extra.py').write_text(
            REVISION.format(
                rev=rev, parent=parent, upgrade=_indent(upgrade), downgrade=_indent(downgrade)
            )
        )
    return target


REVISION = '''"""extra revision {rev}"""
from alembic import op
import sqlalchemy as sa

revision = {rev!r}
down_revision = {parent!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''


def _indent(body):
    """Indent a function body by four spaces."""
    return textwrap.indent(textwrap.dedent(body).strip() or 'pass', '    ')


def run_flask(*args, database_url, cwd=None, background=False):
    """Run the real `flask` command in a new process, as a student would from server/."""
    env = {**os.environ, 'DATABASE_URL': database_url, 'PYTHONUNBUFFERED': '1'}
    command_line = [sys.executable, '-m', 'flask', *args]
    cwd = cwd or SERVER
    if background:
        return subprocess.Popen(
            command_line,
            cwd=cwd,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    return subprocess.run(
        command_line, cwd=cwd, env=env, text=True, capture_output=True, timeout=120
    )


def copy_project(tmp_path):
    """A scratch copy of the student's part of server/ (app.py, .flaskenv, models.py and
    migrations/) to edit and run in process, with the reference models and revisions. The
    tooling is not copied: the tests import it from server/ itself."""
    target = tmp_path / 'server'
    target.mkdir()
    for name in ('app.py', '.flaskenv'):
        shutil.copy(SERVER / name, target / name)
    reference_migrations(target / 'migrations')
    shutil.copy(SOLUTION / 'models.py', target / 'models.py')
    return target


def app_for(models_path, migrations, database_url, module_name):
    """An app wired as app.py wires it, around the models.py at `models_path`, imported under
    `module_name` (`models` is the reference's); returns (app, that module)."""
    spec = importlib.util.spec_from_file_location(module_name, models_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = Flask('app', root_path=str(Path(models_path).parent))
    app.config.from_mapping(
        TESTING=True, SQLALCHEMY_DATABASE_URI=database_url, MIGRATIONS_DIR=Path(migrations)
    )
    dbtools.init_app(app)
    module.db.init_app(app)
    Migrate(app, module.db, directory=migrations)
    return app, module
