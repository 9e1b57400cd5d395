"""The README cannot rot: its walk-through runs, in order, against a scratch copy of the project.

`$ flask ...` lines run through click: as written when the revision id they name is in the
chain, otherwise in the relative form given in their `# or:` comment, so a student's own ids
work too. `>>>` sessions run as doctests in an app context, output included. For
`flask schema` and `flask db rehearse`, the output shown in the README must match, apart from
lines that name revision ids or the database URL. A rehearsal shown with LOST must exit 1.
"""

import doctest
import re
import shlex

import pytest

from chain import SERVER, Chain, copy_project
from dbtools import lesson

README = (SERVER.parent / 'README.md').read_text()
WALKTHROUGH = README.split('<!-- walkthrough:start -->')[1].split('<!-- walkthrough:end -->')[0]
SETUP = {'pipenv shell', 'cd server'}
# `flask run` serves the page (the browser test covers it); what is typed into `flask shell`
# is the `>>>` session that follows, run as a doctest.
NOT_RUN = {'flask run', 'flask shell'}
BLOCK = re.compile(r'^```(console|pycon)\n(.*?)^```', re.M | re.S)
ID_OR_URL = re.compile(r'\b[0-9a-f]{12}\b|://')


def steps():
    """('command', text, shown output lines) and ('session', text) in README order."""
    for kind, body in BLOCK.findall(WALKTHROUGH):
        if kind == 'pycon':
            yield 'session', body, None
            continue
        for chunk in re.split(r'^\$ ', body, flags=re.M)[1:]:
            command, *shown = chunk.rstrip('\n').split('\n')
            yield 'command', command, shown


def comparable(lines):
    """Output lines that do not depend on the revision ids or the database's location."""
    return [line for line in lines if not ID_OR_URL.search(line)]


def run_session(app, text, name):
    """Run a `>>>` block as a doctest in a fresh `flask shell`-like namespace."""
    test = doctest.DocTestParser().get_doctest(text, {}, name, 'README.md', 0)
    report = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    with app.app_context():
        runner.run(test, out=report.append)
    return ''.join(report)


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
        if shown and command.startswith(('flask schema', 'flask db rehearse')):
            actual = comparable(result.stdout.splitlines())
            assert actual == comparable(shown), f'README step {number}: {command} prints'
        ran += 1
    assert ran >= 20, f'only {ran} walk-through steps found: did the markers move?'


def test_the_quick_start_is_what_ci_runs():
    quick = README.split('## Quick start')[1].split('```bash\n')[1].split('```')[0]
    ci = (SERVER.parent / '.ci' / 'run').read_text().splitlines()
    for line in quick.strip().splitlines():
        assert line in ci, f'.ci/run does not run the README quick start line: {line}'


def test_the_warnings_quoted_in_the_readme_are_the_tested_text():
    """renames_test.py proves these texts are what `flask db migrate` prints."""
    quoted = re.findall(r'^WARNING: (.*)$', README, re.M)
    assert quoted == [lesson.TABLE_RENAME_WARNING, lesson.COLUMN_RENAME_WARNING]
