"""pytest-alembic's four built-in tests, set up the way its documentation describes.

The plugin hands env.py an Engine in config.attributes['connection'] (its `alembic_engine`
fixture), while Alembic's cookbook hands it a Connection under the same key; env.py takes
either. env.py also needs the Flask app, so `alembic_engine` keeps an app context pushed.
The README's Tests section shows a teacher the same two fixtures.
"""

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pytest_alembic import tests
from sqlalchemy.pool import NullPool


@pytest.fixture
def alembic_config(app):
    """The Alembic config Flask-Migrate builds for this app (migrations/alembic.ini)."""
    with app.app_context():
        config = app.extensions['migrate'].migrate.get_config()
    # Keep pytest's log capture: env.py would otherwise reconfigure logging on every run.
    config.attributes['configure_logger'] = False
    return config


@pytest.fixture
def alembic_engine(app):
    """The app's own engine, with the app context env.py reads `current_app` from."""
    with app.app_context():
        yield app.extensions['migrate'].db.engine


def test_single_head_revision(alembic_runner):
    tests.test_single_head_revision(alembic_runner)


def test_upgrade(alembic_runner):
    tests.test_upgrade(alembic_runner)


def test_model_definitions_match_ddl(alembic_runner):
    tests.test_model_definitions_match_ddl(alembic_runner)


def test_up_down_consistency(alembic_runner):
    tests.test_up_down_consistency(alembic_runner)


def current_revision(connection):
    """The revision alembic_version records, as seen through `connection`."""
    return MigrationContext.configure(connection).get_current_revision()


def head(config):
    """The head revision of the migrations `config` points at."""
    return ScriptDirectory.from_config(config).get_current_head()


def test_env_connects_the_engine_it_is_given(app, alembic_config, database_url):
    given = sa.create_engine(database_url, poolclass=NullPool)
    connected = []
    sa.event.listen(given, 'engine_connect', connected.append)
    alembic_config.attributes['connection'] = given
    with app.app_context():
        command.upgrade(alembic_config, 'head')
    assert len(connected) == 1, f'env.py connected the given Engine {len(connected)} times'
    with given.connect() as connection:
        assert current_revision(connection) == head(alembic_config)
    given.dispose()


def test_env_uses_the_connection_it_is_given_and_leaves_the_transaction_open(app, alembic_config):
    with app.app_context(), app.extensions['migrate'].db.engine.connect() as connection:
        connection.begin()
        alembic_config.attributes['connection'] = connection
        command.upgrade(alembic_config, 'head')
        assert connection.in_transaction(), "env.py ended the caller's transaction"
        assert current_revision(connection) == head(alembic_config)
        connection.rollback()
        # Nothing was committed, so the upgrade ran inside this very transaction.
        assert current_revision(connection) is None, 'env.py committed on its own connection'


def test_the_readme_shows_these_fixtures():
    # ruff formats the README's code with double quotes, this file with single ones.
    readme = (Path(__file__).resolve().parents[2] / 'README.md').read_text().replace('"', "'")
    shown = readme.split('### pytest-alembic\n')[1].split('```python\n')[1].split('```')[0]
    here = Path(__file__).read_text().replace('"', "'").splitlines()
    for line in shown.splitlines():
        assert line in here, f'the README shows a line this file does not have: {line}'
