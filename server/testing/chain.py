"""Drive a test database through the revision chain, in process, and describe what it holds.

Revisions are found by walking the chain from base, never by id or file name, so the same
tests grade any correct solution whatever its ids.
"""
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

import lesson
from dbtools import rehearsal, seeding, snapshot
from models import db


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
        """`flask db upgrade target`, in process."""
        with self.app.app_context():
            command.upgrade(self.config, target)

    def downgrade(self, target):
        """`flask db downgrade target`, in process."""
        with self.app.app_context():
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
        """Upgrade from base one revision at a time, seeding where the lesson does."""
        for step in range(1, to_step + 1):
            self.upgrade(self.rev(step))
            if seed and step in lesson.SEED_AT:
                self.seed()

    def execute(self, sql):
        """Run one SQL statement and commit."""
        with self.app.app_context(), db.engine.begin() as connection:
            connection.execute(sa.text(sql))


def tables(snap):
    """{table: [(column, type, nullable, primary key)]}, comparable with lesson.SCHEMAS."""
    return {t.name: [(c.name, c.type, c.nullable, c.primary_key) for c in t.columns]
            for t in snap.tables}


def rows(snap):
    """{table: [row tuples]} for every table, in primary-key order."""
    return {t.name: list(t.rows) for t in snap.tables}


def losses(before, after):
    """What a step threw away, as `flask db rehearse` words it: ['table department: 2 rows']."""
    return rehearsal.compare('', before, after).lost
