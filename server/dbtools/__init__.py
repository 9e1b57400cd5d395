"""Tooling around the lesson, kept out of app.py and models.py so they stay plain.

The lesson:
- lesson.py: the lesson's facts (each step's models, schema, rows, hints) and its checks,
  read by `flask lesson check`, the grading tests, `flask seed` and the README test
- codealong.py: `flask lesson start` and `flask lesson solution`, the file work

Migrations:
- safety.py: Flask-Migrate's `flask db` commands with the safety nets below around them
- atomic.py: one transaction per revision, on SQLite too; one migrating process at a time
- targets.py: upgrade/downgrade/rehearse targets checked before anything runs
- errors.py: expected mistakes as one line and a hint
- settings.py: DATABASE_URL checked, its password kept maskable, a connect timeout
- renames.py: `flask db migrate` warnings where autogenerate would drop data
- rehearsal.py: `flask db rehearse`, a dry run of migrations on the real data

Seeing the database:
- snapshot.py: what the database holds now (the viewer, `flask schema`, rehearsal, tests)
- viewer.py: the read-only page at / and /schema.json; guard.py: its headers and Host check
- migration_sql.py: each revision's source and the SQL it runs (page and `flask db sql`)
- drift.py: the one-line warnings when models, files and database disagree
- seeding.py: `flask seed`, the lesson's rows or a million generated ones

MySQL and MariaDB:
- mysql.py: what they need (VARCHAR length, existing_type)
- undo.py: the operations of a revision that failed, undone (their DDL commits itself)
- scratch.py: the scratch copy `flask db rehearse` works on there

- cli.py: click wiring for the commands above
"""


def init_app(app):
    """Check DATABASE_URL, then add the viewer page, the extra `flask` commands and the
    safety nets around Flask-Migrate's own."""
    # mysql: VARCHAR(255) for a String without a length on MySQL/MariaDB (compile hook).
    from dbtools import cli, mysql, settings, viewer  # noqa: F401

    settings.configure(app)
    app.register_blueprint(viewer.bp)
    cli.register(app)
