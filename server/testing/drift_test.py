"""Drift is never silent: the page, /schema.json and `flask schema` say it (dbtools/drift.py)."""

import html

import pytest

from models import db


def shown(app):
    """The drift as each surface shows it: (page lines, JSON entries, `flask schema` lines)."""
    client = app.test_client()
    page = client.get('/').get_data(as_text=True)
    found = page.split('<div class="drift" id="drift">')[1:]
    page_lines = [
        html.unescape(p.split('</p>')[0]).replace('<strong>', '').replace('</strong>', '')
        for p in (found[0].split('</div>')[0].split('<p>')[1:] if found else [])
    ]
    page_lines = [line.replace('<code>', '`').replace('</code>', '`') for line in page_lines]
    entries = client.get('/schema.json').get_json()['drift']
    output = app.test_cli_runner().invoke(args=['schema']).output.splitlines()
    return page_lines, entries, output[2 : 2 + len(entries)]


def assert_everywhere(app, kind, line, fix):
    """The one line, with its fix, on the page, in the JSON and in `flask schema`."""
    page, entries, schema = shown(app)
    assert page == [line], f'{kind}: page'
    assert [(e['kind'], e['fix']) for e in entries] == [(kind, fix)], f'{kind}: /schema.json'
    assert [f'{e["what"]}; run `{e["fix"]}`' for e in entries] == [line], f'{kind}: /schema.json'
    assert schema == [line], f'{kind}: flask schema'


@pytest.mark.parametrize('step', [0, 2, 3])
def test_a_database_behind_head_says_flask_db_upgrade(app, chain, step):
    chain.climb(step)
    count = f'{4 - step} revision{"" if step == 3 else "s"}'
    line = f'Behind head: {count} not applied yet, up to {chain.rev(4)}; run `flask db upgrade`'
    assert_everywhere(app, 'behind head', line, 'flask db upgrade')


@pytest.mark.parametrize('version_table', [False, True], ids=['none', 'empty'])
def test_tables_without_a_recorded_revision_say_flask_db_stamp(app, chain, version_table):
    """Not 'behind head': upgrading would fail on tables that already exist."""
    if version_table:
        chain.climb(1)
        chain.downgrade('base')
    with app.app_context():
        db.create_all()
    line = (
        'No revision recorded, yet the database has tables: db.create_all() made them, not a '
        'migration; run `flask db stamp <the revision they match>`'
    )
    assert_everywhere(app, 'unrecorded', line, 'flask db stamp <the revision they match>')


def test_models_no_migration_covers_say_flask_db_migrate(app, chain):
    """As if a revision had forgotten a column that models.py has."""
    chain.upgrade('head')
    chain.execute('ALTER TABLE employees DROP COLUMN salary')
    line = (
        'Models ahead: changes no migration covers (add column employees.salary); '
        'run `flask db migrate`'
    )
    assert_everywhere(app, 'models', line, 'flask db migrate')
    chain.execute('ALTER TABLE employees ADD COLUMN salary INTEGER')
    assert shown(app) == ([], [], []), 'the line stays after the schema matches again'


def test_a_revision_no_file_has_is_named(app, chain):
    chain.upgrade('head')
    chain.execute("UPDATE alembic_version SET version_num = 'abcdef123456'")
    line = (
        'Unknown revision: the database is at revision abcdef123456, but no file in '
        'migrations/versions has that id (was it deleted?); run `flask db stamp <revision> --purge`'
    )
    assert_everywhere(app, 'unknown revision', line, 'flask db stamp <revision> --purge')
    result = app.test_cli_runner().invoke(args=['db', 'sql'])
    assert (result.exit_code, result.output.splitlines()) == (
        1,
        [
            'Error: the database is at revision abcdef123456, but no file in '
            'migrations/versions has that id (was it deleted?)',
            '  Hint: restore the file (git checkout -- migrations/versions), or record the '
            'revision the database really matches with `flask db stamp <revision> --purge`; a '
            'database from before `flask lesson start` can simply be deleted',
        ],
    )


def test_no_drift_at_head_says_nothing(app, chain):
    chain.climb(4)
    assert shown(app) == ([], [], [])
    assert 'class="drift"' not in app.test_client().get('/').get_data(as_text=True)
