"""Bad input gets one clear line and a hint, never a traceback, and the database stays as it was.

Each case checks the exact message, the exit status and an unchanged database. Flask-Migrate
prints explained errors through its logger, hence the `ERROR [flask_migrate]` prefix.
"""

import socket
import time
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from app import create_app
from chain import Chain, copy_migrations, run_flask, with_password
from dbtools.settings import DatabaseURLError
from dbtools.snapshot import masked_url
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
        'the database really matches with `flask db stamp <revision> --purge`; a database '
        'from before `flask lesson start` can simply be deleted',
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
        "installed (No module named 'MySQLdb')\n  Hint: this project installs PyMySQL for "
        'MySQL and MariaDB: write mysql+pymysql://… (mysql+pymysql://root@127.0.0.1:3306/lesson)'
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


def target_error(chain, command, target, step):
    """The two lines `flask db <command> <target>` prints at `step` (see dbtools/targets.py)."""
    where = 'base (empty)' if step == 0 else f'revision {chain.rev(step)} ({step} of 4)'
    listing = '`flask db history` lists the revisions; `flask db current` shows where you are'
    return {
        'past head': [
            f'{PREFIX}{target} goes past the last revision: there are 4, and the database is '
            f'at {where}',
            f'  Hint: `flask db upgrade` goes to the last one (head); {listing}',
        ],
        'below base': [
            f'{PREFIX}{target} goes below base: the database is at {where}',
            f'  Hint: `flask db downgrade base` undoes every revision; {listing}',
        ],
        'at base': [
            f'{PREFIX}the database is already at base (empty): there is nothing to downgrade',
            '  Hint: `flask db upgrade` applies the revisions; `flask db current` shows where '
            'you are',
        ],
        'empty': [
            f"{PREFIX}no revision given: '' names nothing",
            f'  Hint: use head, base, +1, -1 or an id; {listing}',
        ],
        'below': [
            f'{PREFIX}{target} is below the database, which is at {where}: upgrade only goes up',
            f'  Hint: to go down, run `flask db downgrade {target}`',
        ],
        'above': [
            f'{PREFIX}{target} is above the database, which is at {where}: downgrade only goes '
            'down',
            f'  Hint: to go up, run `flask db upgrade {target}`',
        ],
    }


@pytest.mark.parametrize(
    'command, target, step, kind',
    [
        ('upgrade', '+9', 4, 'past head'),
        ('upgrade', 'base+99', 0, 'past head'),
        ('upgrade', 'head+1', 2, 'past head'),
        ('upgrade', '', 0, 'empty'),
        ('upgrade', '-1', 2, 'below'),
        ('downgrade', None, 0, 'at base'),
        ('downgrade', '-9', 2, 'below base'),
        ('downgrade', 'base-1', 2, 'below base'),
        ('downgrade', '+1', 2, 'above'),
        ('downgrade', '', 3, 'empty'),
    ],
)
def test_a_target_that_cannot_work_is_one_line(chain, runner, command, target, step, kind):
    chain.climb(step)
    before = chain.state()
    args = ['db', command] + ([] if target is None else [target])
    result = runner.invoke(args=args)
    assert result.exit_code == 1, f'{args} at step {step}: {result.output}'
    shown = target_error(chain, command, target, step)[kind]
    assert error_lines(result.output) == shown, f'{args} at step {step}'
    assert chain.state() == before, f'{args}: the database changed'


def test_a_failing_downgrade_names_its_own_revision(make_app, chain, tmp_path):
    fifth = ('d0e500000005', chain.rev(4), 'pass', "raise KeyError('budget')")
    broken = Chain(make_app(MIGRATIONS_DIR=copy_migrations(tmp_path, fifth)))
    broken.climb(5)
    before = broken.state()
    result = broken.app.test_cli_runner().invoke(args=['db', 'downgrade', '-1'])
    assert result.exit_code == 1
    assert error_lines(result.output) == [
        f'{PREFIX}revision d0e500000005 (extra revision d0e500000005) failed in downgrade(): '
        "KeyError: 'budget'; it was rolled back and the database is still at d0e500000005",
        '  Hint: fix downgrade() in migrations/versions/d0e500000005_extra.py, then run the '
        'command again',
    ]
    assert broken.state() == before, 'the database changed'


def read_only(app_url):
    """The same SQLite file, opened read-only (root ignores file permissions, SQLite does not)."""
    return f'sqlite:///file:{app_url.removeprefix("sqlite:///")}?mode=ro&uri=true'


@pytest.mark.parametrize('args', [['db', 'upgrade'], ['seed', '--rows', '5'], ['seed']])
def test_a_read_only_sqlite_file_is_named_as_the_cause(tmp_path, args):
    """SQLite only: a server's read-only mode is a matter of grants, not of a file."""
    url = f'sqlite:///{tmp_path / "lesson.db"}'
    chain = Chain(create_app({'TESTING': True, 'SQLALCHEMY_DATABASE_URI': url}))
    chain.climb(1, seed=False)
    before = chain.state()
    result = (
        create_app({'SQLALCHEMY_DATABASE_URI': read_only(url)}).test_cli_runner().invoke(args=args)
    )
    assert result.exit_code == 1, result.output
    error, hint = error_lines(result.output)
    assert error == (
        f'{PREFIX}the database {masked_url(read_only(url))} is read-only, so nothing could be '
        'written (attempt to write a readonly database)'
    )
    assert hint == (
        '  Hint: give yourself write permission on the database file and its folder, or point '
        'DATABASE_URL at a database you may change'
    )
    assert chain.state() == before, f'{args}: the database changed'


def test_create_all_at_revision_two_is_named_as_the_cause(app, runner, chain):
    chain.climb(2)
    with app.app_context():
        db.create_all()  # the models are at head: this makes `departments` beside `department`
    before = chain.state()
    result = runner.invoke(args=['db', 'upgrade'])
    assert result.exit_code == 1
    assert error_lines(result.output) == [
        f'{PREFIX}table departments already exists although the database is at revision '
        f'{chain.rev(2)}: it was made outside migrations, probably by db.create_all()',
        f'  Hint: drop that table (it is not part of revision {chain.rev(2)}) or delete the '
        'database and run `flask db upgrade`; let migrations create tables, not db.create_all()',
    ]
    assert chain.state() == before, 'the database changed'


@pytest.mark.parametrize(
    'url, message',
    [
        (
            'postgresql+psycopg://me:pw@localhost:fivefour/db',
            "DATABASE_URL 'postgresql+psycopg://me:***@localhost:fivefour/db' is not a database "
            'URL: its port is not a number',
        ),
        (
            'postgresql+psycopg://me:p@ss@localhost/db',
            "DATABASE_URL 'postgresql+psycopg://me:***@localhost/db' has an @ in its password or "
            'user name',
        ),
    ],
)
def test_a_database_url_that_does_not_parse_is_one_line(url, message):
    with pytest.raises(DatabaseURLError) as caught:
        create_app({'SQLALCHEMY_DATABASE_URI': url})
    assert caught.value.format_message().splitlines()[0] == message


@pytest.fixture
def silent_server():
    """A local socket that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(('127.0.0.1', 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_a_server_that_never_answers_times_out(silent_server, server):
    """Only where servers are tested: libpq's shortest connect timeout is two seconds."""
    url = f'postgresql+psycopg://me@127.0.0.1:{silent_server}/lesson'
    app = create_app({'SQLALCHEMY_DATABASE_URI': url, 'DATABASE_CONNECT_TIMEOUT': 2})
    started = time.monotonic()
    result = app.test_cli_runner().invoke(args=['db', 'upgrade'])
    assert time.monotonic() - started < 20, 'the command hung'
    assert result.exit_code == 1
    error, hint = error_lines(result.output)
    assert error.startswith(f'{PREFIX}cannot reach the database {url}: '), error
    assert 'timeout' in error, error
    assert hint == '  Hint: check DATABASE_URL and that the database server is running'


@pytest.mark.parametrize(
    'args', [['db', 'current', '-v'], ['db', 'rehearse'], ['schema'], ['db', 'upgrade']]
)
def test_a_password_in_the_query_is_never_printed(server_database, args):
    """`?password=` is moved where SQLAlchemy and Alembic mask it."""
    with with_password(server_database, 's3cret') as with_it:
        user = sa.engine.make_url(server_database).set(username=with_it.username)
        plain = user.render_as_string(hide_password=False)
        app = create_app({'SQLALCHEMY_DATABASE_URI': f'{plain}?password=s3cret'})
        result = app.test_cli_runner().invoke(args=args)
        with app.app_context():
            db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert 's3cret' not in result.output, f'{args} printed the password'
    moved = sa.engine.make_url(app.config['SQLALCHEMY_DATABASE_URI'])
    assert (moved.password, dict(moved.query)) == ('s3cret', {})


def test_a_password_in_the_query_is_never_printed_when_unreachable():
    url = 'postgresql+psycopg://me@127.0.0.1:1/nowhere?password=s3cret'
    result = (
        create_app({'SQLALCHEMY_DATABASE_URI': url})
        .test_cli_runner()
        .invoke(args=['db', 'upgrade'])
    )
    assert result.exit_code == 1
    assert error_lines(result.output)[0].startswith(
        f'{PREFIX}cannot reach the database postgresql+psycopg://me:***@127.0.0.1:1/nowhere: '
    )
    assert 's3cret' not in result.output


@pytest.fixture
def reader(server_database):
    """A URL for a user who may connect and read, but not create tables."""
    url = sa.engine.make_url(server_database)
    user = f'reader_{uuid.uuid4().hex[:8]}'
    admin = sa.create_engine(server_database, poolclass=NullPool, isolation_level='AUTOCOMMIT')
    mysql = url.get_backend_name() == 'mysql'
    with admin.connect() as connection:
        if mysql:
            connection.exec_driver_sql(f"CREATE USER '{user}'@'%%'")
            connection.exec_driver_sql(f"GRANT SELECT ON `{url.database}`.* TO '{user}'@'%%'")
        else:  # PostgreSQL 15 lets only the owner create in the public schema
            connection.exec_driver_sql(f'CREATE ROLE {user} LOGIN')
    yield url.set(username=user).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP USER '{user}'@'%%'" if mysql else f'DROP ROLE {user}')
    admin.dispose()


def test_a_user_without_the_rights_is_named_as_the_cause(reader):
    app = create_app({'SQLALCHEMY_DATABASE_URI': reader})
    result = app.test_cli_runner().invoke(args=['db', 'upgrade'])
    with app.app_context():
        shown = masked_url(db.engine.url)
        db.engine.dispose()
    assert result.exit_code == 1, result.output
    error, hint = error_lines(result.output)
    assert error.startswith(f'{PREFIX}the database user of {shown} is not allowed to do this: ')
    assert hint == (
        '  Hint: connect as a user who may create and change tables (or ask for those rights), '
        'or point DATABASE_URL at a database of your own'
    )


@pytest.mark.parametrize('args', [['db', 'upgrade'], ['schema'], ['db', 'history']])
def test_a_revision_file_that_cannot_be_read_is_named(make_app, chain, tmp_path, args):
    chain.climb(4)
    before = chain.state()
    half_edited = ('ba0000000005', chain.rev(4), 'def broken(:', 'pass')
    app = make_app(MIGRATIONS_DIR=copy_migrations(tmp_path, half_edited))
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1, result.output
    assert error_lines(result.output) == [
        f'{PREFIX}migrations/versions/ba0000000005_extra.py, line 12 cannot be read: '
        'SyntaxError: invalid syntax',
        '  Hint: fix that line (an unfinished edit?), then run the command again',
    ]
    assert app.test_client().get('/').status_code == 503, 'the page should say so, not fail'
    assert chain.state() == before, 'the database changed'


def test_an_option_click_does_not_know_is_not_taken_for_a_revision(runner):
    result = runner.invoke(args=['db', 'upgrade', '--sqll'])
    assert result.exit_code == 1
    assert error_lines(result.output) == [
        f'{PREFIX}there is no option --sqll',
        "  Hint: the command's --help lists its options",
    ]


def test_a_downgrade_from_a_revision_no_file_has_says_so(make_app, chain, tmp_path):
    chain.climb(4)
    app = make_app(MIGRATIONS_DIR=copy_migrations(tmp_path, drop=[chain.rev(4)]))
    result = app.test_cli_runner().invoke(args=['db', 'downgrade', '-1'])
    assert result.exit_code == 1
    assert error_lines(result.output)[0] == (
        f'{PREFIX}the database is at revision {chain.rev(4)}, but no file in migrations/versions '
        'has that id (was it deleted?)'
    )


def test_a_database_that_does_not_exist_is_named_as_the_cause(server_database):
    url = sa.engine.make_url(server_database).set(database='no_such_lesson_db')
    app = create_app({'SQLALCHEMY_DATABASE_URI': url.render_as_string(hide_password=False)})
    result = app.test_cli_runner().invoke(args=['db', 'current'])
    with app.app_context():
        shown = masked_url(db.engine.url)
        db.engine.dispose()
    assert result.exit_code == 1, result.output
    error, hint = error_lines(result.output)
    assert error.startswith(f'{PREFIX}the database named in {shown} does not exist on that server')
    assert hint == (
        '  Hint: create it first (`createdb` for PostgreSQL, `CREATE DATABASE …` in the mysql '
        'client), or fix its name in DATABASE_URL'
    )
