"""`flask lesson start` and `flask lesson solution`: the files and database of the code-along.

The reference solution is server/solution/ (models.py, env.py and versions/), the one copy
maintained by hand. On main, server/models.py, server/migrations/env.py and
server/migrations/versions/ are byte-identical copies of it, which `flask lesson solution
--restore` writes back (CI checks that they match). Neither
command throws a student's work away unless told to with --force: a models.py that is not one
of the lesson's own (dbtools/lesson.MODELS) and a revision that is not byte for byte one of
the reference's count as work.
"""

import shutil
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from dbtools import errors, lesson, snapshot

SOLUTION = Path(__file__).resolve().parents[1] / 'solution'


def reference_revisions():
    """The reference revisions (Alembic's Script objects), in the order of the lesson's steps."""
    return list(reversed(list(ScriptDirectory(str(SOLUTION)).walk_revisions())))


def own_work(migrations):
    """The student's files that are not the lesson's: models.py and revisions, by name."""
    ours = {Path(script.path).read_bytes() for script in reference_revisions()}
    work = [
        f'migrations/versions/{path.name}'
        for path in sorted((migrations / 'versions').glob('*.py'))
        if path.read_bytes() not in ours
    ]
    models = migrations.parent / 'models.py'
    if models.exists() and models.read_text() not in lesson.MODELS.values():
        work.insert(0, 'models.py')
    return work


def start(migrations, engine, force=False):
    """Put models.py at step 1, remove every revision and empty the database; return lines."""
    _refuse_to_lose_work(migrations, force, 'start')
    # The database first: when it cannot be reached, no file has changed yet.
    emptied = empty_database(engine)
    (migrations.parent / 'models.py').write_text(lesson.MODELS[1])
    removed = _clear_versions(migrations)
    return [
        f"models.py is the lesson's step 1 (the Employee model); removed {removed} "
        'revision file(s) from migrations/versions.',
        emptied,
        'Next: read models.py, then run `flask db migrate -m "initial migration"`.',
    ]


def restore(migrations, engine, force=False):
    """Put the finished lesson back: the reference models.py and revisions; return lines."""
    _refuse_to_lose_work(migrations, force, 'solution --restore')
    # The database first: when it cannot be reached, no file has changed yet.
    with engine.connect() as connection:
        recorded = snapshot.revision(connection)
    shutil.copy(SOLUTION / 'models.py', migrations.parent / 'models.py')
    _clear_versions(migrations)
    for script in reference_revisions():
        shutil.copy(script.path, migrations / 'versions')
    said = ['models.py and migrations/versions are the finished lesson again.']
    if lesson.is_stock_env(migrations / 'env.py'):
        shutil.copy(SOLUTION / 'env.py', migrations / 'env.py')
        said.append("migrations/env.py is the project's again, instead of the stock template.")
    reference = {script.revision for script in reference_revisions()}
    if set(recorded) - reference:
        # The database names a revision that no longer exists: no command could move it.
        said.append(empty_database(engine))
    said.append('Next: run `flask db upgrade`.')
    return said


def solution(step):
    """The reference models.py and revision of `step`, as text to print."""
    path = Path(reference_revisions()[step - 1].path)
    return (
        f'Step {step} ({lesson.STEP_NAMES[step]}) in the reference solution.\n\n'
        f'models.py:\n\n{lesson.MODELS[step]}\n'
        f'migrations/versions/{path.name}:\n\n{path.read_text()}'
    )


def next_step(migrations):
    """The step after the revisions written so far (4 at most), counted along the chain."""
    _script, chain, _problem = lesson.revision_chain(migrations)
    return min(len(chain) + 1, len(lesson.STEPS))


def empty_database(engine):
    """Delete a SQLite file, or drop the lesson's tables on a server; say which."""
    url = snapshot.masked_url(engine.url)
    if engine.dialect.name == 'sqlite' and engine.url.database not in (None, '', ':memory:'):
        engine.dispose()
        path = Path(engine.url.database)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return f'Deleted the database {url}.' if existed else f'No database yet at {url}.'
    names = {name for schema in lesson.SCHEMAS.values() for name in schema}
    names.add(snapshot.VERSION_TABLE)
    with engine.begin() as connection:
        present = sorted(set(sa.inspect(connection).get_table_names()) & names)
        quote = connection.dialect.identifier_preparer.quote
        for name in present:
            connection.exec_driver_sql(f'DROP TABLE {quote(name)}')
    if not present:
        return f'The database {url} has no lesson tables to drop.'
    return f'Dropped {", ".join(present)} from {url}.'


def _clear_versions(migrations):
    """Remove every revision file (and Python's cache of them); return how many."""
    versions = migrations / 'versions'
    versions.mkdir(exist_ok=True)
    files = list(versions.glob('*.py'))
    for path in files:
        path.unlink()
    shutil.rmtree(versions / '__pycache__', ignore_errors=True)
    return len(files)


def _refuse_to_lose_work(migrations, force, command):
    """Raise an explained error when the student's own files would be overwritten."""
    work = own_work(migrations)
    if work and not force:
        raise errors.Explained(
            f'{", ".join(work)} {"is" if len(work) == 1 else "are"} your own work, not the '
            f"lesson's: `flask lesson {command}` would throw {'it' if len(work) == 1 else 'them'} "
            'away',
            'keep a copy (`git stash --include-untracked`, or copy the files), then run '
            f'`flask lesson {command} --force`',
        )
