"""The read-only viewer: the page at /, /schema.json and `flask schema` (dbtools/viewer.py)."""

import json
import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from app import create_app
from chain import SERVER, with_password
from dbtools import lesson, viewer
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


@pytest.mark.parametrize('form', ['user:password@', '?password='])
def test_a_password_in_the_url_is_masked(server_database, form):
    """A real page shows the URL it reads, with the password masked (on MySQL/MariaDB, which
    check passwords, as a user made for the test)."""
    with with_password(server_database, 's3cret') as url:
        masked = f'{url.username}:***@'  # settings.py moves a ?password= there
        if form == '?password=':
            plain = sa.engine.make_url(server_database).set(username=url.username)
            url = plain.update_query_dict({'password': 's3cret'})
        app = create_app({'SQLALCHEMY_DATABASE_URI': url.render_as_string(hide_password=False)})
        page = app.test_client().get('/').get_data(as_text=True)
        data = app.test_client().get('/schema.json').get_json()
        text = app.test_cli_runner().invoke(args=['schema']).output
        with app.app_context():
            db.engine.dispose()
    assert masked in page and masked in data['database'] and masked in text, form
    assert 's3cret' not in page + str(data) + text, form


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


@pytest.mark.parametrize('downgraded', [False, True], ids=['new', 'downgraded to base'])
def test_flask_schema_on_an_empty_database(chain, runner, downgraded):
    if downgraded:
        chain.climb(2)
        chain.downgrade('base')
    head = chain.rev(4)
    assert runner.invoke(args=['schema']).output.splitlines()[1:] == [
        'Revision: base (empty)',
        f'Behind head: 4 revisions not applied yet, up to {head}; run `flask db upgrade`',
        '',
        'No tables yet: run `flask db upgrade`.',
    ]


@pytest.mark.parametrize('version_table', [False, True], ids=['none', 'empty'])
def test_tables_without_a_recorded_revision_are_not_called_base(app, chain, runner, version_table):
    """db.create_all() makes the tables but records no revision (drift_test has the fix)."""
    if version_table:
        chain.climb(1)
        chain.downgrade('base')
    with app.app_context():
        db.create_all()
    why = 'alembic_version is empty' if version_table else 'no alembic_version table'
    lines = runner.invoke(args=['schema']).output.splitlines()
    assert lines[1] == f'Revision: none recorded ({why})', lines


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


def test_a_postgresql_table_without_primary_key_and_with_json_is_shown(server_database):
    """json has no ordering operator, so a plain ORDER BY over every column fails there."""
    if sa.engine.make_url(server_database).get_backend_name() != 'postgresql':
        pytest.skip('json and timestamptz as PostgreSQL has them')
    app = create_app({'SQLALCHEMY_DATABASE_URI': server_database})
    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql('CREATE TABLE events (payload json, at timestamptz)')
        connection.exec_driver_sql(
            "INSERT INTO events VALUES ('{\"b\": [1, 2.5]}', '2026-01-02 03:04:05+00'), "
            '(\'["<i>"]\', NULL), (NULL, NULL)'
        )
    page = app.test_client().get('/')
    data = app.test_client().get('/schema.json')
    text = app.test_cli_runner().invoke(args=['schema'])
    with app.app_context():
        db.engine.dispose()
    rows = [['["<i>"]', None], ['{"b": [1, 2.5]}', '2026-01-02 03:04:05+00:00'], [None, None]]
    assert (page.status_code, data.status_code, text.exit_code) == (200, 200, 0), text.output
    assert data.get_json()['tables'][0]['rows'] == rows
    assert '<td>[&#34;&lt;i&gt;&#34;]</td>' in page.get_data(as_text=True)
    assert text.output.splitlines()[-5:] == [
        'payload JSON     at TIMESTAMP WITH TIME ZONE',
        '---------------  ---------------------------',
        '["<i>"]          NULL',
        '{"b": [1, 2.5]}  2026-01-02 03:04:05+00:00',
        'NULL             NULL',
    ]


def test_schema_json_is_valid_json_with_nan_and_infinity(backend, chain, client):
    if backend.startswith('mysql'):
        pytest.skip('MySQL and MariaDB store no infinity or NaN in a FLOAT')
    chain.execute('CREATE TABLE measures (id INTEGER PRIMARY KEY, x FLOAT)')
    values = ['9e999', '-9e999'] if backend == 'sqlite' else ["'Infinity'", "'-Infinity'"]
    values += [] if backend == 'sqlite' else ["'NaN'"]  # SQLite stores NaN as NULL
    for i, value in enumerate(values, start=1):
        chain.execute(f'INSERT INTO measures VALUES ({i}, {value})')
    body = client.get('/schema.json').get_data(as_text=True)

    def refuse(constant):
        raise AssertionError(f'{constant} is not JSON')

    rows = json.loads(body, parse_constant=refuse)['tables'][0]['rows']
    assert rows == [[1, 'Infinity'], [2, '-Infinity'], [3, 'NaN']][: len(values)], backend


def test_huge_cells_are_cut_and_say_how_much(backend, chain, client, runner):
    """Twenty values of 500 kB: the page, the JSON and the terminal stay small (the size of
    the answer does not depend on the size of the values)."""
    # MySQL's TEXT stops at 64 kB; LONGTEXT is its unlimited kind.
    kind = 'LONGTEXT' if backend.startswith('mysql') else 'TEXT'
    chain.execute(f'CREATE TABLE notes (id INTEGER PRIMARY KEY, body {kind})')
    insert(
        chain,
        'INSERT INTO notes VALUES (:id, :body)',
        ({'id': i, 'body': 'x' * 500_000} for i in range(1, 21)),
    )
    cell = 'x' * 200 + '… (499,800 more characters)'
    page, data = client.get('/'), client.get('/schema.json')
    text = runner.invoke(args=['schema']).output
    assert len(page.data) < 20_000 and len(data.data) < 20_000 and len(text) < 20_000
    assert page.get_data(as_text=True).count(f'<td>{cell}</td>') == 20
    assert data.get_json()['tables'][0]['rows'] == [[i, cell] for i in range(1, 21)]
    assert text.splitlines()[-1] == f'20             {cell}'


def test_binary_values_render_as_hexadecimal(backend, chain, client, runner):
    kind = 'BYTEA' if backend.startswith('postgresql') else 'BLOB'
    chain.execute(f'CREATE TABLE files (id INTEGER PRIMARY KEY, data {kind})')
    insert(chain, 'INSERT INTO files VALUES (1, :data)', [{'data': b'<script>\x00\xff'}])
    assert '<td>0x3c7363726970743e00ff</td>' in client.get('/').get_data(as_text=True)
    rows = client.get('/schema.json').get_json()['tables'][0]['rows']
    assert rows == [[1, '0x3c7363726970743e00ff']], backend
    assert runner.invoke(args=['schema']).output.splitlines()[-1] == (
        '1              0x3c7363726970743e00ff'
    )


def insert(chain, sql, rows):
    """Run one INSERT with bound values for each row, and commit."""
    with chain.app.app_context(), db.engine.begin() as connection:
        for row in rows:
            connection.execute(sa.text(sql), row)


def test_sqlite_text_that_is_not_utf8_is_shown_with_replacement_characters(tmp_path):
    """SQLite lets a TEXT value hold any bytes; sqlite3 would refuse to read these."""
    app = create_app({'SQLALCHEMY_DATABASE_URI': f'sqlite:///{tmp_path / "odd.db"}'})
    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)')
        connection.exec_driver_sql("INSERT INTO notes VALUES (1, CAST(X'41ff42' AS TEXT))")
    page = app.test_client().get('/').get_data(as_text=True)
    data = app.test_client().get('/schema.json').get_json()
    text = app.test_cli_runner().invoke(args=['schema']).output
    with app.app_context():
        db.engine.dispose()
    assert '<td>A\ufffdB</td>' in page
    assert data['tables'][0]['rows'] == [[1, 'A\ufffdB']]
    assert text.splitlines()[-1] == '1              A\ufffdB'


@pytest.mark.parametrize('path', ['/', '/schema.json'])
def test_a_read_that_keeps_failing_is_a_503_that_reloads(client, monkeypatch, path):
    """A migration between two statements of the read: three tries, then a 503, never a 500."""
    tries = []

    def changing(connection, **_):
        tries.append(connection)
        raise sa.exc.OperationalError('SELECT', {}, Exception('no such table: department'))

    monkeypatch.setattr(viewer.snapshot, 'take', changing)
    monkeypatch.setattr(viewer, 'PAUSE', 0)
    response = client.get(path)
    what = 'could not read a consistent snapshot of the database (no such table: department)'
    hint = 'a migration is probably running; try again when it has finished'
    assert (response.status_code, response.headers['Refresh'], len(tries)) == (503, '2', 3)
    assert response.headers['X-Content-Type-Options'] == 'nosniff'
    if path == '/':
        assert response.get_data(as_text=True) == f'Error: {what}\nHint: {hint}\n'
    else:
        assert response.get_json() == {'error': what, 'hint': hint}


def test_the_viewer_never_answers_500_while_migrations_run(chain, make_app):
    """Poll / and /schema.json (bounded in count and time) while another thread migrates.

    The viewer is an app of its own, as `flask run` is a process of its own beside
    `flask db upgrade`: its engine is not the one that migrates.
    """
    chain.climb(4)
    failures, done = [], threading.Event()

    def migrate():
        try:
            for _ in range(3):
                chain.downgrade('base')
                chain.upgrade('head')
        except Exception as exc:  # reported by the assert below
            failures.append(exc)
        finally:
            done.set()

    client, seen = make_app().test_client(), Counter()
    # Render each revision's SQL now (it is cached): that runs Alembic, whose `op` and
    # `context` are process globals, and here, unlike beside `flask run`, the migrating
    # Alembic shares the process.
    assert client.get('/').status_code == 200
    thread = threading.Thread(target=migrate)
    thread.start()
    deadline = time.monotonic() + 30
    while not done.is_set() and time.monotonic() < deadline and seen.total() < 1000:
        for path in ('/', '/schema.json'):
            response = client.get(path)
            seen[response.status_code] += 1
            assert response.status_code in (200, 503), response.get_data(as_text=True)
            if response.status_code == 503:
                assert response.headers['Refresh'] == '2'
    thread.join(timeout=60)
    assert not failures and done.is_set(), failures
    assert seen[200] > 0, seen


def test_flask_schema_says_when_no_consistent_read_could_be_had(runner, monkeypatch):
    def changing(connection, **_):
        raise sa.exc.OperationalError('SELECT', {}, Exception('no such table: department'))

    monkeypatch.setattr(viewer.snapshot, 'take', changing)
    monkeypatch.setattr(viewer, 'PAUSE', 0)
    result = runner.invoke(args=['schema'])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        'Error: could not read a consistent snapshot of the database (no such table: department)',
        '  Hint: a migration is probably running; try again when it has finished',
    ]


@pytest.mark.parametrize('path', ['/', '/schema.json'])
def test_a_read_after_the_snapshot_that_fails_is_a_503_too(client, monkeypatch, path):
    """The drift check reads the database again; a migration may have changed it by then."""

    def changing(snap):
        raise sa.exc.OperationalError('SELECT', {}, Exception('no such table: department'))

    monkeypatch.setattr(viewer.drift, 'check', changing)
    response = client.get(path)
    assert (response.status_code, response.headers['Refresh']) == (503, '2')
    assert 'could not read a consistent snapshot of the database (no such table: department)' in (
        response.get_data(as_text=True)
    )
