"""Bad input gets one clear line and a hint, never a traceback, and the database stays as it was.

Each case checks the exact message, the exit status and an unchanged database. Flask-Migrate
prints explained errors through its logger, hence the `ERROR [flask_migrate]` prefix.
"""

import pytest

from app import create_app
from chain import Chain, copy_migrations, run_flask
from dbtools.settings import DatabaseURLError
from models import db

PREFIX = 'Error: '


def error_lines(output):
    """The error line and hint line of a command's output (log lines before them dropped)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if 'Error:' in line)
    return lines[start:]


def test_unknown_revision(runner, chain):
    chain.climb(4)
    before = chain.state()
    result = runner.invoke(args=['db', 'downgrade', 'nope'])
    assert result.exit_code == 1
    assert error_lines(result.output) == [
        f"{PREFIX}there is no revision 'nope'",
        '  Hint: `flask db history` lists the ids; head, base, +1 and -1 work too',
    ]
    assert chain.state() == before, 'the database changed'


@pytest.mark.parametrize('url', ['not a url', 'sqlite//app.db'])
def test_malformed_database_url_in_the_app_factory(url):
    with pytest.raises(DatabaseURLError) as caught:
        create_app({'SQLALCHEMY_DATABASE_URI': url})
    assert caught.value.format_message() == (
        f"DATABASE_URL '{url}' is not a database URL\n  Hint: write it as "
        'dialect+driver://user:password@host:port/name, for example '
        'postgresql+psycopg://postgres@127.0.0.1:5432/test, or unset it to use instance/app.db'
    )


def test_malformed_database_url_from_the_real_command_line(tmp_path):
    """A new process, as a student runs it: two lines on stderr, status 1, no traceback."""
    result = run_flask('db', 'upgrade', database_url='postgres://me:secret@localhost/db')
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Error: DATABASE_URL 'postgres://me:***@localhost/db' names a database this project "
        "cannot drive (Can't load plugin: sqlalchemy.dialects:postgres)",
        '  Hint: use sqlite:///app.db or postgresql+psycopg://… '
        '(postgres:// is the old spelling of postgresql://)',
    ]


@pytest.mark.parametrize(
    'url, shown',
    [
        (
            'postgresql+psycopg://me:secret@127.0.0.1:1/nowhere',
            'postgresql+psycopg://me:***@127.0.0.1:1/nowhere',
        ),
        ('sqlite:////nonexistent-dir/lesson.db', 'sqlite:////nonexistent-dir/lesson.db'),
    ],
)
def test_unreachable_database(url, shown, reference):
    app = create_app({'SQLALCHEMY_DATABASE_URI': url, 'MIGRATIONS_DIR': reference})
    runner = app.test_cli_runner()
    result = runner.invoke(args=['db', 'upgrade'])
    assert result.exit_code == 1
    error, hint = error_lines(result.output)
    assert error.startswith(f'{PREFIX}cannot reach the database {shown}: '), error
    assert hint == '  Hint: check DATABASE_URL and that the database server is running'
    assert 'secret' not in result.output


def test_tables_made_by_create_all_without_migration_history(app, runner, chain):
    """The error names db.create_all() and `flask db stamp`; stamping then fixes it."""
    with app.app_context():
        db.create_all()
    chain.execute("INSERT INTO employees (name, salary) VALUES ('Kai Uri', 89000)")
    before = chain.state()
    result = runner.invoke(args=['db', 'upgrade'])
    assert result.exit_code == 1
    error, hint = error_lines(result.output)
    assert error.startswith(
        f'{PREFIX}the tables already exist but the database has no '
        'migration history (no alembic_version): they were probably made '
        'by db.create_all() ('
    ), error
    assert hint == (
        '  Hint: if they match a revision, record it with `flask db stamp '
        '<revision>` (`flask db stamp head` for the current models); otherwise '
        'delete the database and run `flask db upgrade`'
    )
    assert chain.state() == before, 'the database changed'
    assert runner.invoke(args=['db', 'stamp', 'head']).exit_code == 0
    assert runner.invoke(args=['db', 'upgrade']).exit_code == 0
    assert runner.invoke(args=['db', 'check']).exit_code == 0


def test_database_stamped_with_a_deleted_revision(make_app, chain, tmp_path):
    chain.climb(4)
    before = chain.state()
    last = chain.rev(4)
    migrations = copy_migrations(tmp_path, drop=[last])
    result = make_app(MIGRATIONS_DIR=migrations).test_cli_runner().invoke(args=['db', 'upgrade'])
    assert result.exit_code == 1
    assert error_lines(result.output) == [
        f'{PREFIX}the database is at revision {last}, but no file in migrations/versions has '
        'that id (was it deleted?)',
        '  Hint: restore the file (git checkout -- migrations/versions), or record the revision '
        'the database really matches with `flask db stamp <revision> --purge`',
    ]
    assert chain.state() == before, 'the database changed'


def test_two_heads_point_to_flask_db_merge(make_app, chain, tmp_path):
    """Two students each add a revision after head; merging as the hint says fixes it."""
    chain.climb(4)
    head = chain.rev(4)
    student_a = (
        'a11ce0000005',
        head,
        "op.add_column('employees', sa.Column('email', sa.String()))",
        "op.drop_column('employees', 'email')",
    )
    student_b = (
        'b0b000000005',
        head,
        "op.create_index('ix_departments_name', 'departments', ['name'])",
        "op.drop_index('ix_departments_name', 'departments')",
    )
    migrations = copy_migrations(tmp_path, student_a, student_b)
    runner = make_app(MIGRATIONS_DIR=migrations).test_cli_runner()
    before = chain.state()
    for command in (['db', 'upgrade'], ['db', 'migrate', '-m', 'more']):
        result = runner.invoke(args=command)
        assert result.exit_code == 1, command
        assert error_lines(result.output) == [
            f'{PREFIX}the migrations have two heads (a11ce0000005, b0b000000005): two '
            'revisions follow the same parent',
            '  Hint: join them with `flask db merge heads -m "merge heads"`, then run '
            '`flask db upgrade`',
        ], command
        assert chain.state() == before, f'{command}: the database changed'
    assert runner.invoke(args=['db', 'merge', 'heads', '-m', 'merge heads']).exit_code == 0
    assert runner.invoke(args=['db', 'upgrade']).exit_code == 0
    assert len(Chain(runner.app).snapshot().revision) == 1, 'one merged head expected'


def test_a_database_url_whose_driver_is_not_installed():
    with pytest.raises(DatabaseURLError) as caught:
        create_app({'SQLALCHEMY_DATABASE_URI': 'mysql://root:pw@127.0.0.1/lesson'})
    assert caught.value.format_message() == (
        "DATABASE_URL 'mysql://root:***@127.0.0.1/lesson' needs a database driver that is not "
        "installed (No module named 'MySQLdb')\n  Hint: this project installs psycopg for "
        'PostgreSQL (postgresql+psycopg://postgres@127.0.0.1:5432/test); SQLite needs no driver'
    )


def test_autogenerate_on_a_database_behind_head(make_app, chain, tmp_path):
    chain.climb(2)
    before = chain.state()
    # A scratch copy of the migrations, so that a regression could not write into the repo.
    runner = make_app(MIGRATIONS_DIR=copy_migrations(tmp_path)).test_cli_runner()
    result = runner.invoke(args=['db', 'migrate', '-m', 'too early'])
    assert result.exit_code == 1
    assert error_lines(result.output) == [
        f'{PREFIX}the database is not at the latest revision, so autogenerate would compare '
        'the models with an old schema',
        '  Hint: run `flask db upgrade` first, then `flask db migrate`',
    ]
    assert chain.state() == before, 'the database changed'
