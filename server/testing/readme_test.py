"""The README cannot rot: its code-along and its walk-through run, in order, against scratch
copies of the project.

The code-along starts from the finished lesson with `flask lesson start`, writes each
`models.py` block it shows (each must be the lesson's own, dbtools/lesson.MODELS), runs
`flask db migrate` with the README's messages, applies the hand edits it shows to the revision
just written, and runs every command and shell session, with `flask lesson check` after each
step; it runs on SQLite and on every server in TEST_DATABASE_URLS. The walk-through replays
the finished revisions:

`$ flask ...` lines run through click: as written when the revision id they name is in the
chain, otherwise in the relative form given in their `# or:` comment, so a student's own ids
work too. `>>>` sessions run as doctests in an app context, output included. For
`flask schema`, `flask db rehearse` and `flask db sql`, the output shown in the README must
match, apart from lines that name revision ids or the database URL. A rehearsal shown with LOST
must exit 1. Every ```sql block of steps 3 and 4 is rendered again the way `flask db sql` does.
"""

import contextlib
import doctest
import re
import shlex
import sys

import pytest

from app import create_app
from chain import SERVER, Chain, app_for, copy_migrations, copy_project
from dbtools import lesson, migration_sql
from tools import fresh_setup

README = (SERVER.parent / 'README.md').read_text()
WALKTHROUGH = README.split('<!-- walkthrough:start -->')[1].split('<!-- walkthrough:end -->')[0]
CODEALONG = README.split('<!-- codealong:start -->')[1].split('<!-- codealong:end -->')[0]
SETUP = {'pipenv shell', 'cd server'}
# `flask run` serves the page (the browser test covers it); what is typed into `flask shell`
# is the `>>>` session that follows, run as a doctest.
NOT_RUN = {'flask run', 'flask shell'}
BLOCK = re.compile(r'^```(console|pycon)\n(.*?)^```', re.M | re.S)
CODE = re.compile(r'^```(console|pycon|python)\n(.*?)^```', re.M | re.S)
ID_OR_URL = re.compile(r'\b[0-9a-f]{12}\b|://')
SQL_BLOCK = re.compile(
    r"^```sql\n-- (the hand edit|autogenerate's version), on (SQLite|PostgreSQL)\n(.*?)^```",
    re.M | re.S,
)
# Offline rendering never connects, so a PostgreSQL URL with no server behind it will do.
OFFLINE_URLS = {
    'SQLite': 'sqlite:///{tmp}/unused.db',
    'PostgreSQL': 'postgresql+psycopg://x@127.0.0.1:1/x',
}


def steps(section=WALKTHROUGH, pattern=BLOCK):
    """('command', text, shown output lines), ('session', text) and, for python blocks,
    ('models', text) or ('edit', text) in README order."""
    for kind, body in pattern.findall(section):
        if kind == 'pycon':
            yield 'session', body, None
            continue
        if kind == 'python':
            yield ('models' if body.startswith('from flask_sqlalchemy') else 'edit'), body, None
            continue
        for chunk in re.split(r'^\$ ', body, flags=re.M)[1:]:
            command, *shown = chunk.rstrip('\n').split('\n')
            yield 'command', command, shown


def comparable(lines):
    """Output lines that do not depend on the revision ids or the database's location."""
    return [line for line in lines if not ID_OR_URL.search(line)]


def run_session(app, text, name, models=None):
    """Run a `>>>` block as a doctest in a fresh `flask shell`-like namespace, where
    `import models` finds `models` if given (the models.py of that code-along step)."""
    test = doctest.DocTestParser().get_doctest(text, {}, name, 'README.md', 0)
    report = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    with app.app_context(), _models_module(models):
        runner.run(test, out=report.append)
    return ''.join(report)


@contextlib.contextmanager
def _models_module(models):
    """Let `from models import ...` find `models` for a while (the reference's otherwise)."""
    reference = sys.modules['models']
    sys.modules['models'] = models or reference
    try:
        yield
    finally:
        sys.modules['models'] = reference


def runnable(text, revisions):
    """The command as written if every id it names is one of `revisions`, else its relative form."""
    written, _, relative = (part.strip() for part in text.partition('# or:'))
    ids = re.findall(r'\b[0-9a-f]{12}\b', written)
    return written if all(i in revisions for i in ids) or not relative else relative


@pytest.mark.parametrize('form', ['ids', 'relative'])
def test_the_walkthrough_runs_as_written(make_app, tmp_path, form):
    """Once with the README's revision ids, once with only the relative forms."""
    app = make_app(MIGRATIONS_DIR=copy_project(tmp_path) / 'migrations')
    revisions = Chain(app).revisions if form == 'ids' else []
    on_sqlite = app.config['SQLALCHEMY_DATABASE_URI'].startswith('sqlite')
    runner = app.test_cli_runner()
    ran = 0
    for number, (kind, text, shown) in enumerate(steps(), start=1):
        if kind == 'session':
            failures = run_session(app, text, f'session {number}')
            assert not failures, f'README step {number}, flask shell:\n{failures}'
            ran += 1
            continue
        command = runnable(text, revisions)
        if command in SETUP or command in NOT_RUN:
            continue
        assert command.startswith('flask '), f'README step {number}: cannot run {command!r}'
        result = runner.invoke(args=shlex.split(command)[1:])
        expected_status = 1 if any('LOST' in line for line in shown) else 0
        assert result.exit_code == expected_status, (
            f'README step {number}: {command}\n{result.output}'
        )
        # The README shows SQLite's SQL; the ```sql blocks below it are checked on their own.
        compared = ('flask schema', 'flask db rehearse') + (('flask db sql',) if on_sqlite else ())
        if shown and command.startswith(compared):
            actual = comparable(result.stdout.splitlines())
            assert actual == comparable(shown), f'README step {number}: {command} prints'
        ran += 1
    assert ran >= 20, f'only {ran} walk-through steps found: did the markers move?'


def test_the_codealong_runs_as_written(database_url, tmp_path):
    """`flask lesson start`, then the four steps as a student types them, checked after each."""
    project = copy_project(tmp_path)
    versions = project / 'migrations' / 'versions'
    step, ran, written = 0, 0, None
    for number, (kind, text, shown) in enumerate(steps(CODEALONG, CODE), start=1):
        where = f'README code-along block {number}'
        if kind == 'models':
            step += 1
            assert text == lesson.MODELS[step], f'{where}: not the models.py of step {step}'
            (project / 'models.py').write_text(text)
            continue
        if kind == 'edit':
            written.write_text(written.read_text().split('def upgrade():')[0] + text)
            continue
        if kind == 'command' and (text in SETUP or text in NOT_RUN):
            continue
        app, models = app_for(
            project / 'models.py', project / 'migrations', database_url, f'step_models_{number}'
        )
        before = set(versions.glob('*.py'))
        try:
            if kind == 'session':
                failures = run_session(app, text, where, models)
                assert not failures, f'{where}, flask shell:\n{failures}'
            else:
                result = app.test_cli_runner().invoke(args=shlex.split(text)[1:])
                check_codealong_command(where, text, shown, result, step)
        finally:
            with app.app_context():
                models.db.engine.dispose()
        if text.startswith('flask db migrate'):
            (written,) = set(versions.glob('*.py')) - before
        ran += 1
    assert (step, ran) == (4, 21), f'{ran} code-along steps for {step} models: did they move?'


def check_codealong_command(where, command, shown, result, step):
    """The command succeeded, printed the warnings and check output shown, if any."""
    done = step if command == 'flask lesson check' else 4
    assert result.exit_code == (0 if done == 4 else 1), f'{where}: {command}\n{result.output}'
    if command.startswith('flask db migrate'):
        warnings = [line for line in result.stderr.splitlines() if line.startswith('WARNING')]
        assert warnings == [line for line in shown if line.startswith('WARNING')], where
    if command == 'flask lesson check':
        lines = result.output.splitlines()
        assert lines[-2].startswith(f'{step}/4 steps done'), f'{where}: {result.output}'
        # The last line names the student's own revision id, which differs from the README's.
        assert not shown or comparable(lines) == comparable(shown), f'{where}: {command} prints'


def sql_blocks():
    """(step, variant, database, statements) for each ```sql block of steps 3 and 4."""
    for step in (3, 4):
        section = WALKTHROUGH.split(f'### Step {step}:')[1].split('\n### ')[0]
        for variant, database, body in SQL_BLOCK.findall(section):
            yield step, variant, database, body.strip()


def test_steps_3_and_4_show_each_version_on_each_database():
    shown = sorted((step, variant, database) for step, variant, database, _ in sql_blocks())
    assert shown == sorted(
        [(3, 'the hand edit', 'PostgreSQL'), (4, 'the hand edit', 'PostgreSQL')]
        + [(step, "autogenerate's version", db) for step in (3, 4) for db in OFFLINE_URLS]
    ), 'the ```sql blocks of steps 3 and 4 (the SQLite hand edits are `flask db sql` above)'


@pytest.mark.parametrize(
    'step, variant, database, statements',
    list(sql_blocks()),
    ids=[f'{s}-{v.split()[-1]}-{d}' for s, v, d, _ in sql_blocks()],
)
def test_the_sql_shown_is_what_alembic_renders(
    tmp_path, reference, step, variant, database, statements
):
    config = {
        'SQLALCHEMY_DATABASE_URI': OFFLINE_URLS[database].format(tmp=tmp_path),
        'MIGRATIONS_DIR': reference,
    }
    rev = Chain(create_app(config)).rev
    if variant != 'the hand edit':
        written = {3: lesson.AUTOGENERATED_RENAME, 4: lesson.AUTOGENERATED_COLUMN_RENAME}
        config['MIGRATIONS_DIR'] = copy_migrations(
            tmp_path,
            *[(rev(n), rev(n - 1), written[n], 'pass') for n in (3, 4)],
            drop=[rev(3), rev(4)],
        )
    with create_app(config).app_context():
        rendered = migration_sql.render(rev(step))
    assert (rendered.error, rendered.sql) == (None, statements), f'step {step}: {variant}'


def test_the_quick_start_is_what_ci_runs():
    ci = [line.strip() for line in (SERVER.parent / '.ci' / 'run').read_text().splitlines()]
    lines = fresh_setup.quick_start(README)
    assert lines[-1] == 'pipenv run pytest', 'the Quick start no longer ends with the suite'
    for line in lines:
        assert line in ci, f'.ci/run does not run the README quick start line: {line}'


def test_the_warnings_quoted_in_the_readme_are_the_tested_text():
    """renames_test.py proves these texts are what `flask db migrate` prints."""
    quoted = re.findall(r'^WARNING: (.*)$', README, re.M)
    both = [lesson.TABLE_RENAME_WARNING, lesson.COLUMN_RENAME_WARNING]
    assert quoted == both * 2, 'the code-along and the walk-through each quote both warnings'
