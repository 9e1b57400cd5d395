"""Fixtures in the style of Flask's tutorial: a fresh database per test, the app built on it.

Every migration test takes the `backend` fixture and runs on SQLite (a file in tmp_path) and
on each server in TEST_DATABASE_URLS (comma-separated SQLAlchemy URLs). On a server the run
creates one uniquely named database, empties it before each test (on PostgreSQL a new
`public` schema is far quicker than a new database; on MySQL/MariaDB, where a database is a
schema, the database is dropped and made again) and drops it at the end, pass or fail. Without
TEST_DATABASE_URLS the server cases are skipped with a reason. server/instance/app.db is
never touched.

Tool tests (every file but codegrade_test.py) run on the reference solution in
server/solution/, whatever the student's models.py and migrations hold during the code-along:
`models` is the reference models module, and `create_app` (as every test module imports it)
defaults to a scratch copy of server/migrations/ with the reference env.py and revisions.
codegrade_test.py grades the student's own files.
"""

import contextlib
import importlib.util
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

SERVER = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SERVER))
# Keep compiled code between runs, as Python does unless PYTHONDONTWRITEBYTECODE says not to
# (this machine's environment does): every test module, revision and env.py is otherwise
# compiled again each time it is loaded, which costs the suite about a quarter of its time.
sys.dont_write_bytecode = False
# The students' own DATABASE_URL must not leak into the tests.
os.environ.pop('DATABASE_URL', None)


def _load_reference_models():
    """Import server/solution/models.py as `models`, before app.py imports the student's."""
    spec = importlib.util.spec_from_file_location('models', SERVER / 'solution' / 'models.py')
    module = sys.modules['models'] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


_load_reference_models()

import app as app_module  # noqa: E402
from chain import Chain, reference_migrations  # noqa: E402
from models import db  # noqa: E402

# The reference migrations for the whole run, removed at its end (pytest_unconfigure).
REFERENCE = reference_migrations(Path(tempfile.mkdtemp(prefix='lesson-reference-')) / 'migrations')


def create_app(test_config=None):
    """app.create_app on the reference migrations, unless the test names others."""
    return _create_app({'MIGRATIONS_DIR': REFERENCE, **(test_config or {})})


# Every test module's `from app import create_app` gets the version above, so a tool test can
# never pick up the student's migrations by leaving MIGRATIONS_DIR out.
_create_app, app_module.create_app = app_module.create_app, create_app

# Modules made from the student's files: Alembic names env.py and each revision after its file
# (env_py, 1a2b3c_add_department_py), and the grading tests load models.py as student_models.
STUDENT_MODULES = [r'.*_py$', 'student_models', 'lesson_models_']


def pytest_configure(config):
    """Warnings are errors in our own code, as in Flask's own test suite, but not in the
    student's files: a stock env.py's deprecation warning must not fail the grade."""
    config.addinivalue_line('filterwarnings', 'error')
    for module in STUDENT_MODULES:
        config.addinivalue_line('filterwarnings', f'ignore:::{module}')


def pytest_unconfigure(config):
    """Remove the run's reference migrations."""
    shutil.rmtree(REFERENCE.parent, ignore_errors=True)


def server_urls():
    """The database servers named in TEST_DATABASE_URLS."""
    return [u.strip() for u in os.environ.get('TEST_DATABASE_URLS', '').split(',') if u.strip()]


def pytest_generate_tests(metafunc):
    """Parametrize `backend` (and `server` for server-only tests) over the databases."""
    servers = [pytest.param(u, id=sa.engine.make_url(u).get_backend_name()) for u in server_urls()]
    if not servers:
        servers = [
            pytest.param(
                None,
                id='postgresql',
                marks=pytest.mark.skip(
                    reason='TEST_DATABASE_URLS is not set: no database server to test on'
                ),
            )
        ]
    if 'backend' in metafunc.fixturenames:
        metafunc.parametrize('backend', [pytest.param('sqlite', id='sqlite'), *servers])
    if 'server' in metafunc.fixturenames:
        metafunc.parametrize('server', servers)


@contextlib.contextmanager
def temporary_database(server_url):
    """Create a uniquely named database on the server; drop it when done, even on failure."""
    server = sa.engine.make_url(server_url)
    name = f'lesson_test_{uuid.uuid4().hex[:12]}'
    admin = sa.create_engine(server, isolation_level='AUTOCOMMIT', poolclass=NullPool)
    quoted = admin.dialect.identifier_preparer.quote(name)
    # PostgreSQL refuses to drop a database someone is connected to unless forced.
    force = ' WITH (FORCE)' if admin.dialect.name == 'postgresql' else ''
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE {quoted}')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS {quoted}{force}')
        admin.dispose()


@pytest.fixture(scope='session')
def server_databases():
    """One temporary database per server for the whole run, created on first use."""
    with contextlib.ExitStack() as stack:
        created = {}

        def database_on(server_url):
            """The run's database on that server."""
            if server_url not in created:
                created[server_url] = stack.enter_context(temporary_database(server_url))
            return created[server_url]

        yield database_on


def emptied(url):
    """The database at `url`, with everything a test may have made dropped."""
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        if connection.dialect.name == 'postgresql':
            connection.exec_driver_sql('DROP SCHEMA public CASCADE; CREATE SCHEMA public')
        else:
            # MySQL/MariaDB: a database is a schema; dropping it beats dropping each table.
            name = connection.dialect.identifier_preparer.quote(engine.url.database)
            connection.exec_driver_sql(f'DROP DATABASE {name}')
            connection.exec_driver_sql(f'CREATE DATABASE {name}')
    return url


@pytest.fixture
def sqlite_folder(tmp_path):
    """Where a test's SQLite file lives: memory-backed /dev/shm where there is one, because
    each commit's fsync costs milliseconds on a disk and nothing there; tmp_path elsewhere."""
    if not os.access('/dev/shm', os.W_OK):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix='lesson-test-', dir='/dev/shm'))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def database_url(backend, sqlite_folder, server_databases):
    """A fresh, empty database on `backend`."""
    if backend == 'sqlite':
        return f'sqlite:///{sqlite_folder / "lesson.db"}'
    return emptied(server_databases(backend))


@pytest.fixture
def server_database(server, server_databases):
    """A fresh, empty database on a server from TEST_DATABASE_URLS (server-only tests)."""
    return emptied(server_databases(server))


@pytest.fixture(scope='session')
def reference():
    """server/migrations with the reference env.py and revisions, for the tool tests."""
    return REFERENCE


@pytest.fixture
def make_app(database_url, reference):
    """Build apps on the test database, with extra config; their engines are closed after."""
    apps = []

    def make(**config):
        """An app on the test database (and the reference migrations) with `config` on top."""
        app = create_app(
            {
                'TESTING': True,
                'SQLALCHEMY_DATABASE_URI': database_url,
                'MIGRATIONS_DIR': reference,
                **config,
            }
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def chain(app):
    return Chain(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
