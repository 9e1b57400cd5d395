"""The read-only viewer: the page at /, /schema.json and `flask schema` (dbtools/viewer.py)."""

import pytest
import sqlalchemy as sa

from app import create_app
from chain import SERVER, Chain
from dbtools import lesson
from models import db

WRITES = ['post', 'put', 'patch', 'delete']


@pytest.mark.parametrize('step', [0, 1, 2, 3, 4])
def test_schema_json_at_every_revision(chain, client, step):
    chain.climb(step)
    data = client.get('/schema.json').get_json()
    assert data['revision'] == ([chain.rev(step)] if step else []), f'revision {step}'
    got = {
        t['name']: [(c['name'], c['type'], c['nullable'], c['primary_key']) for c in t['columns']]
        for t in data['tables']
    }
    assert got == lesson.SCHEMAS[step], f'revision {step}: tables'
    rows = {t['name']: [tuple(r) for r in t['rows']] for t in data['tables']}
    assert rows == lesson.ROWS[step], f'revision {step}: rows'
    assert [t['row_count'] for t in data['tables']] == [2] * len(data['tables'])
    assert [h['id'] for h in data['history']] == ['base', *chain.revisions]
    assert [h['id'] for h in data['history'] if h['current']] == [chain.rev(step)]
    assert [h['id'] for h in data['history'] if h['next']] == chain.revisions[step : step + 1]
    assert [h['id'] for h in data['history'] if h['head']] == [chain.rev(4)]
    assert [h['id'] for h in data['history'] if h['base']] == ['base']


@pytest.mark.parametrize(
    'step, table, place', [(2, 'department', 'address'), (4, 'departments', 'location')]
)
def test_page_shows_the_tables_and_rows_of_the_revision(chain, client, step, table, place):
    chain.climb(step)
    page = client.get('/').get_data(as_text=True)
    assert f'<h2 id="table-{table}">{table}' in page, f'revision {step}: {table} missing'
    assert f'<th>{place}<small>VARCHAR · nullable</small></th>' in page
    assert '<td>Building C, 1st Floor</td>' in page and '<td>Alena Lee</td>' in page
    assert f'<code>{chain.rev(step)}</code>' in page.split('class="current"')[1][:80]


def test_only_the_first_fifty_rows_are_shown_with_the_total(chain, client, runner):
    chain.upgrade('head')
    assert runner.invoke(args=['seed', '--rows', '60']).exit_code == 0
    employees = client.get('/schema.json').get_json()['tables'][1]
    assert (employees['name'], employees['row_count'], len(employees['rows'])) == (
        'employees',
        60,
        50,
    )
    assert '(60 rows, first 50 shown)' in client.get('/').get_data(as_text=True)


def test_row_text_is_escaped(chain, client):
    chain.upgrade('head')
    chain.execute("INSERT INTO employees (name) VALUES ('<script>alert(1)</script>')")
    page = client.get('/').get_data(as_text=True)
    assert '<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>' in page
    assert '<script>alert(1)' not in page


@pytest.mark.parametrize('method', WRITES)
@pytest.mark.parametrize('path', ['/', '/schema.json'])
def test_writes_are_refused_and_change_nothing(chain, client, method, path):
    chain.climb(4)
    before = chain.state()
    response = getattr(client, method)(path, data={'name': 'x'})
    assert response.status_code == 405, f'{method.upper()} {path}'
    assert chain.state() == before


def test_no_debug_mode_by_default(app):
    assert app.debug is False
    assert 'FLASK_DEBUG' not in (SERVER / '.flaskenv').read_text()


def test_a_password_in_the_url_is_masked(server_database):
    """On a trust-auth server any password connects, so a real page can show the URL."""
    url = sa.engine.make_url(server_database).set(password='s3cret')
    app = create_app({'SQLALCHEMY_DATABASE_URI': url.render_as_string(hide_password=False)})
    page = app.test_client().get('/').get_data(as_text=True)
    data = app.test_client().get('/schema.json').get_json()
    with app.app_context():
        db.engine.dispose()
    assert f'{url.username}:***@' in page and f'{url.username}:***@' in data['database']
    assert 's3cret' not in page and 's3cret' not in str(data)


def test_flask_schema_prints_aligned_tables(chain, runner):
    chain.climb(2)
    result = runner.invoke(args=['schema'])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        f'Revision: {chain.rev(2)}',
        f'Behind head: 2 revisions not applied yet, up to {chain.rev(4)}; run `flask db upgrade`',
        '',
        'department (2 rows)',
        'id INTEGER PK  name VARCHAR NOT NULL  address VARCHAR',
        '-------------  ---------------------  ---------------------',
        '1              Payroll                Building A, 4th Floor',
        '2              Human Resources        Building C, 1st Floor',
        '',
        'employees (2 rows)',
        'id INTEGER PK  name VARCHAR NOT NULL  salary INTEGER',
        '-------------  ---------------------  --------------',
        '1              Kai Uri                89000',
        '2              Alena Lee              125000',
    ]


def test_flask_schema_on_an_empty_database(runner):
    head = Chain(runner.app).rev(4)
    assert runner.invoke(args=['schema']).output.splitlines()[1:] == [
        'Revision: base (empty)',
        f'Behind head: 4 revisions not applied yet, up to {head}; run `flask db upgrade`',
        '',
        'No tables yet: run `flask db upgrade`.',
    ]


@pytest.mark.parametrize('path', ['/', '/schema.json'])
def test_an_unreachable_database_is_explained_not_a_traceback(path):
    app = create_app(
        {'SQLALCHEMY_DATABASE_URI': 'postgresql+psycopg://me:secret@127.0.0.1:1/nowhere'}
    )
    response = app.test_client().get(path)
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    what = 'cannot reach the database postgresql+psycopg://me:***@127.0.0.1:1/nowhere: '
    hint = 'check DATABASE_URL and that the database server is running'
    if path == '/':
        assert body.startswith(f'Error: {what}') and body.endswith(f'\nHint: {hint}\n')
    else:
        assert response.get_json()['error'].startswith(what)
        assert response.get_json()['hint'] == hint
    assert 'secret' not in body and 'Traceback' not in body
