"""The README's Troubleshooting section quotes what the project really prints.

Each scenario below makes one mistake, in process, and returns what the command printed.
Every `Error:` line the section quotes (with `…` for the parts that differ) must match a line
some scenario printed, and every scenario's error must be quoted there.
"""

import re
import sqlite3

import pytest

from app import create_app
from chain import SERVER, Chain, copy_migrations
from dbtools.settings import DatabaseURLError
from models import db

README = (SERVER.parent / 'README.md').read_text()
SECTION = README.split('## Troubleshooting\n')[1].split('\n## ')[0]
QUOTED = [q for _, q in re.findall(r'\*\*(`+)(Error: .*?)\1\*\*', SECTION)]


def invoke(app, *args):
    """What `flask <args>` printed."""
    return app.test_cli_runner().invoke(args=list(args)).output


def behind_head(chain, make_app, tmp_path):
    chain.climb(2)
    return invoke(make_app(MIGRATIONS_DIR=copy_migrations(tmp_path)), 'db', 'migrate')


def unknown_revision(chain, make_app, tmp_path):
    return invoke(chain.app, 'db', 'upgrade', 'nope')


def deleted_file(chain, make_app, tmp_path):
    chain.climb(4)
    return invoke(make_app(MIGRATIONS_DIR=copy_migrations(tmp_path, drop=[chain.rev(4)])),
                  'db', 'upgrade')  # fmt: skip


def past_head(chain, make_app, tmp_path):
    chain.climb(4)
    return invoke(chain.app, 'db', 'upgrade', '+9')


def below_base(chain, make_app, tmp_path):
    chain.climb(1)
    return invoke(chain.app, 'db', 'downgrade', '-2')


def at_base(chain, make_app, tmp_path):
    return invoke(chain.app, 'db', 'downgrade')


def wrong_direction(chain, make_app, tmp_path):
    chain.climb(2)
    return invoke(chain.app, 'db', 'upgrade', '-1')


def failed_revision(chain, make_app, tmp_path):
    chain.climb(4)
    broken = ('b40e00000005', chain.rev(4), "op.drop_table('nowhere')", 'pass')
    return invoke(make_app(MIGRATIONS_DIR=copy_migrations(tmp_path, broken)), 'db', 'upgrade')


def create_all_first(chain, make_app, tmp_path):
    with chain.app.app_context():
        db.create_all()
    return invoke(chain.app, 'db', 'upgrade')


def create_all_later(chain, make_app, tmp_path):
    chain.climb(2)
    with chain.app.app_context():
        db.create_all()
    return invoke(chain.app, 'db', 'upgrade')


def two_heads(chain, make_app, tmp_path):
    chain.climb(4)
    a = ('a11ce0000005', chain.rev(4), 'pass', 'pass')
    b = ('b0b000000005', chain.rev(4), 'pass', 'pass')
    return invoke(make_app(MIGRATIONS_DIR=copy_migrations(tmp_path, a, b)), 'db', 'upgrade')


def bad_urls(chain, make_app, tmp_path):
    lines = []
    for url in ('postgresql+psycopg://me:pw@localhost:five/db', 'postgresql://me:p@ss@host/db'):
        with pytest.raises(DatabaseURLError) as caught:
            create_app({'SQLALCHEMY_DATABASE_URI': url})
        lines.append(f'Error: {caught.value.format_message()}')
    return '\n'.join(lines)


def unreachable(chain, make_app, tmp_path):
    return invoke(create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite:////nowhere/x.db'}), 'schema')


def locked(chain, make_app, tmp_path):
    chain.climb(1)
    holder = sqlite3.connect(tmp_path / 'lesson.db', isolation_level=None)
    holder.execute('BEGIN EXCLUSIVE')  # a database browser in the middle of a change
    try:
        return invoke(make_app(SQLALCHEMY_ENGINE_OPTIONS={'connect_args': {'timeout': 0}}), 'seed')
    finally:
        holder.close()


def read_only(chain, make_app, tmp_path):
    chain.climb(1)
    path = chain.app.config['SQLALCHEMY_DATABASE_URI'].removeprefix('sqlite:///')
    url = f'sqlite:///file:{path}?mode=ro&uri=true'
    return invoke(create_app({'SQLALCHEMY_DATABASE_URI': url}), 'seed', '--rows', '1')


def init_again(chain, make_app, tmp_path):
    return invoke(chain.app, 'db', 'init')


def no_migrations_folder(chain, make_app, tmp_path):
    return invoke(make_app(MIGRATIONS_DIR=tmp_path / 'gone'), 'db', 'current')


def old_postgres_spelling(chain, make_app, tmp_path):
    with pytest.raises(DatabaseURLError) as caught:
        create_app({'SQLALCHEMY_DATABASE_URI': 'postgres://me@localhost/db'})
    return f'Error: {caught.value.format_message()}'


def stock_env(chain, make_app, tmp_path):
    return invoke(make_app(MIGRATIONS_DIR=copy_migrations(tmp_path, stock_env=True)), 'db',
                  'rehearse')  # fmt: skip


SCENARIOS = [
    behind_head, unknown_revision, deleted_file, past_head, below_base, at_base,
    wrong_direction, failed_revision, create_all_first, create_all_later, two_heads, bad_urls,
    unreachable, locked, read_only, stock_env, init_again, no_migrations_folder,
    old_postgres_spelling,
]  # fmt: skip


@pytest.fixture
def printed(tmp_path, reference):
    """Every Error: line the scenarios print, by scenario, each on a SQLite file of its own
    (these are words, the same on every backend)."""
    found, apps = {}, []
    for scenario in SCENARIOS:
        folder = tmp_path / scenario.__name__
        folder.mkdir()
        url = f'sqlite:///{folder / "lesson.db"}'

        def make_app(url=url, **config):
            apps.append(
                create_app(
                    {
                        'TESTING': True,
                        'SQLALCHEMY_DATABASE_URI': url,
                        'MIGRATIONS_DIR': reference,
                        **config,
                    }
                )
            )
            return apps[-1]

        out = scenario(Chain(make_app()), make_app, folder)
        found[scenario.__name__] = [line for line in out.splitlines() if 'Error: ' in line]
    yield found
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def pattern(quote):
    """The quote as a regular expression: `…` stands for anything."""
    return re.compile('.*'.join(re.escape(part) for part in quote.split('…')))


def test_every_quoted_error_is_printed_and_every_error_is_quoted(printed):
    assert len(QUOTED) >= 15, f'only {len(QUOTED)} quotes found: did the section move?'
    lines = [line for found in printed.values() for line in found]
    for quote in QUOTED:
        assert any(pattern(quote).search(line) for line in lines), f'never printed: {quote}'
    for name, found in printed.items():
        assert found, f'{name}: printed no Error: line'
        assert any(pattern(q).search(found[0]) for q in QUOTED), f'{name}: not quoted: {found[0]}'
