"""How much do the lesson's two renames cost at scale, and what would batch mode cost instead?

    cd server && python -m tools.benchmark [--database-url postgresql+psycopg://...] [--rows ...]

For each backend (SQLite always; PostgreSQL when a URL is given) and each row count, a database
is built at revision 2 with that many rows in both tables. Then, for two versions of the
rename-column revision (the repository's native RENAME COLUMN, and Alembic batch mode, which
on SQLite recreates the table and copies every row), it times the upgrade to head and the
downgrade back to revision 2: the migration steps in process (median of --repeat runs) and the whole
`flask db upgrade` command. After every run it checks, in SQL, that every value survived.

Last it times `flask` commands on an up-to-date database against a minimal Flask-Migrate app
with the same models, to show what this project's extras add to start-up.

Prints plain tables and writes a CSV; exits 1 if a target in the README does not hold.
"""

import argparse
import csv
import datetime
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy.pool import NullPool

SERVER = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SERVER))

from app import create_app  # noqa: E402
from dbtools import rehearsal, safety, seeding, snapshot  # noqa: E402
from models import db  # noqa: E402

ROWS = [0, 10_000, 100_000, 1_000_000]
RENAME_COLUMN = '76f31678b786'
BEFORE_RENAMES = '51f20aa4768b'
BATCH_RENAME = """
def upgrade():
    # Batch mode, as render_as_batch writes it. On SQLite it recreates departments and copies
    # every row; on PostgreSQL Alembic sees no need and emits the native RENAME COLUMN.
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.alter_column('address', new_column_name='location')


def downgrade():
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.alter_column('location', new_column_name='address')
"""
# The baseline: Flask-Migrate's own wiring around the same models.py, with its stock env.py.
MINIMAL_APP = """
import os
from flask import Flask
from flask_migrate import Migrate
from models import db

app = Flask(__name__)
app.config['SQLALCHEMY_DATABASE_URI'] = os.environ['DATABASE_URL']
db.init_app(app)
Migrate(app, db)
"""
STARTUP_COMMANDS = [['db', 'upgrade'], ['db', 'current'], ['db', 'history'], ['routes']]


def main():
    """Run every measurement, print the tables, write the CSV, check the targets."""
    options = parse_args()
    print(versions(options.database_url))
    results, scale = [], []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        migrations = variants(scratch)
        backends = [('sqlite', None)] + (
            [('postgresql', options.database_url)] if options.database_url else []
        )
        for backend, server in backends:
            for rows in options.rows:
                with database(backend, server, scratch, rows) as built:
                    url = built.url
                    scale.append(
                        {
                            'backend': backend,
                            'rows': rows,
                            'seed_s': built.seed_s,
                            'rehearse_s': time_rehearsal(url),
                        }
                    )
                    for name, directory in migrations.items():
                        results.append(measure(url, directory, backend, rows, name, options.repeat))
                        print(
                            f'  {backend:10} {rows:>9,} rows  {name:6}  '
                            f'up+down {results[-1]["up_down_s"]:.3f} s',
                            flush=True,
                        )
        startup = measure_startup(scratch, migrations['native'], options.repeat_startup)
    print()
    print(results_table(results))
    print()
    print(startup_table(startup))
    print()
    print(scale_table(scale))
    checks = targets(results, startup)
    print()
    print('\n'.join(f'{"PASS" if ok else "FAIL"}  {text}' for ok, text in checks))
    write_csv(options.csv, results, startup, scale)
    print(f'\nCSV written to {options.csv}')
    return 0 if all(ok for ok, _ in checks) else 1


def parse_args():
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--database-url',
        help='a PostgreSQL server URL to benchmark as well '
        '(a scratch database is created on it and dropped)',
    )
    parser.add_argument(
        '--rows',
        default=','.join(map(str, ROWS)),
        type=lambda s: [int(x) for x in s.split(',')],
        help='comma-separated row counts (default: %(default)s)',
    )
    parser.add_argument('--repeat', type=int, default=3, help='runs per measurement')
    parser.add_argument('--repeat-startup', type=int, default=10, help='runs per command')
    stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
    parser.add_argument(
        '--csv', type=Path, default=SERVER / 'benchmark-results' / f'benchmark-{stamp}.csv'
    )
    options = parser.parse_args()
    if 0 not in options.rows:
        parser.error('--rows must include 0: the targets compare with the empty database')
    return options


def versions(server_url):
    """One line each: machine, databases, packages."""
    cpu = next(
        (
            line.split(':', 1)[1].strip()
            for line in Path('/proc/cpuinfo').read_text().splitlines()
            if line.startswith('model name')
        ),
        platform.processor(),
    )
    lines = [
        f'Date: {datetime.date.today()}',
        f'Machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}',
        f'Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}',
    ]
    if server_url:
        engine = sa.create_engine(server_url, poolclass=NullPool)
        with engine.connect() as connection:
            lines.append(connection.scalar(sa.text('SELECT version()')).split(' on ')[0])
    lines.append(
        ', '.join(
            f'{p} {version(p)}'
            for p in (
                'flask',
                'flask-sqlalchemy',
                'flask-migrate',
                'alembic',
                'sqlalchemy',
                'psycopg',
            )
        )
    )
    return '\n'.join(lines)


def variants(scratch):
    """Two migration directories: the repository's, and one with a batch-mode rename column."""
    native = SERVER / 'migrations'
    batch = scratch / 'migrations-batch'
    shutil.copytree(native, batch, ignore=shutil.ignore_patterns('__pycache__'))
    script = next(batch.glob(f'versions/{RENAME_COLUMN}_*.py'))
    source = script.read_text()
    script.write_text(source[: source.index('def upgrade():')] + BATCH_RENAME.lstrip())
    return {'native': native, 'batch': batch}


class database:
    """A scratch database at revision 2 with `rows` rows in both tables."""

    def __init__(self, backend, server, scratch, rows):
        self.backend, self.server, self.rows = backend, server, rows
        self.name = f'lesson_bench_{os.getpid()}_{rows}'
        self.url = (
            f'sqlite:///{scratch / self.name}.db'
            if backend == 'sqlite'
            else sa.engine.make_url(server)
            .set(database=self.name)
            .render_as_string(hide_password=False)
        )

    def __enter__(self):
        """Create (on a server), migrate to revision 2, seed, and time the seeding."""
        if self.backend != 'sqlite':
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}"', f'CREATE DATABASE "{self.name}"')
        app = create_app({'SQLALCHEMY_DATABASE_URI': self.url})
        with app.app_context(), safety.migrating(app):
            command.upgrade(config(app, SERVER / 'migrations'), BEFORE_RENAMES)
            start = time.perf_counter()
            with db.engine.begin() as connection:
                if self.rows:
                    seeding.seed_generated(connection, self.rows)
            self.seed_s = time.perf_counter() - start
            db.engine.dispose()
        if self.backend != 'sqlite':
            self._admin('VACUUM ANALYZE', database=self.name)
        return self

    def __exit__(self, *exc):
        """Delete the file or drop the database."""
        if self.backend == 'sqlite':
            Path(self.url.removeprefix('sqlite:///')).unlink()
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _admin(self, *statements, database=None):
        """Run statements outside a transaction on the server (or on `database`)."""
        url = sa.engine.make_url(self.server)
        if database:
            url = url.set(database=database)
        engine = sa.create_engine(url, isolation_level='AUTOCOMMIT', poolclass=NullPool)
        with engine.connect() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)


def config(app, directory):
    """An Alembic config for `directory` that leaves logging alone."""
    cfg = app.extensions['migrate'].migrate.get_config(str(directory))
    cfg.attributes['configure_logger'] = False
    return cfg


def measure(url, directory, backend, rows, variant, repeat):
    """Time upgrade to head and downgrade to revision 2, in process and as a command."""
    app = create_app({'SQLALCHEMY_DATABASE_URI': url})
    ups, downs = [], []
    # The same safety nets as `flask db upgrade` (one transaction per revision).
    with app.app_context(), safety.migrating(app):
        cfg = config(app, directory)
        before = contents(db.engine)
        for _ in range(repeat):
            ups.append(timed(command.upgrade, cfg, 'head'))
            check(contents(db.engine), before, f'{backend} {rows} {variant} after upgrade')
            downs.append(timed(command.downgrade, cfg, BEFORE_RENAMES))
            check(contents(db.engine), before, f'{backend} {rows} {variant} after downgrade')
        db.engine.dispose()
    env = {**os.environ, 'DATABASE_URL': url}
    cli = run_flask(['db', 'upgrade', '-d', str(directory)], env)
    cli_down = run_flask(['db', 'downgrade', BEFORE_RENAMES, '-d', str(directory)], env)
    up, down = statistics.median(ups), statistics.median(downs)
    return {
        'backend': backend,
        'rows': rows,
        'variant': variant,
        'upgrade_s': up,
        'downgrade_s': down,
        'up_down_s': up + down,
        'cli_upgrade_s': cli,
        'cli_downgrade_s': cli_down,
    }


def time_rehearsal(url):
    """Seconds `flask db rehearse` takes from revision 2 to head, in process."""
    app = create_app({'SQLALCHEMY_DATABASE_URI': url})
    with app.app_context():
        steps = []
        seconds = timed(lambda: steps.extend(rehearsal.rehearse('head')[1]))
        db.engine.dispose()
    if any(step.lost for step in steps):
        raise SystemExit(f'Error: rehearsal reported a loss on {url}')
    return seconds


def contents(engine):
    """Every table's row count and per-column fingerprints, names aside (computed in SQL)."""
    with engine.connect() as connection:
        snap = snapshot.take(connection, row_limit=0, fingerprints=True)
    return [(t.row_count, [c.fingerprint for c in t.columns]) for t in snap.tables]


def check(now, before, where):
    """Stop the benchmark if any value was lost."""
    if now != before:
        raise SystemExit(f'Error: values changed ({where})')


def timed(function, *args):
    """Seconds taken by one call."""
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def run_flask(args, env, app=None):
    """Wall time of one `flask` command in a new process, run from the app's folder as a
    student would; stop the benchmark if it fails."""
    app = Path(app or SERVER / 'app.py')
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, '-m', 'flask', '--app', app.name, *args],
        cwd=app.parent,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f'Error: flask {" ".join(args)} failed:\n{done.stderr}')
    return elapsed


def measure_startup(scratch, migrations, repeat):
    """Median wall time of `flask` commands: this project vs a minimal Flask-Migrate app."""
    minimal = scratch / 'minimal'
    minimal.mkdir()
    (minimal / 'app.py').write_text(MINIMAL_APP)
    shutil.copy(SERVER / 'models.py', minimal / 'models.py')
    shutil.copytree(
        migrations, minimal / 'migrations', ignore=shutil.ignore_patterns('__pycache__')
    )
    template = Path(sys.modules['flask_migrate'].__file__).parent / 'templates' / 'flask'
    shutil.copy(template / 'env.py', minimal / 'migrations' / 'env.py')
    url = f'sqlite:///{scratch / "startup.db"}'
    env = {**os.environ, 'DATABASE_URL': url}
    run_flask(['db', 'upgrade'], env, minimal / 'app.py')
    apps = {'minimal': minimal / 'app.py', 'project': SERVER / 'app.py'}
    times = {(name, ' '.join(args)): [] for name in apps for args in STARTUP_COMMANDS}
    for _ in range(repeat):  # interleaved, so both see the same machine load
        for args in STARTUP_COMMANDS:
            for name, app in apps.items():
                times[(name, ' '.join(args))].append(run_flask(args, env, app))
    return [
        {
            'command': f'flask {" ".join(args)}',
            'minimal_s': statistics.median(times[('minimal', ' '.join(args))]),
            'project_s': statistics.median(times[('project', ' '.join(args))]),
        }
        for args in STARTUP_COMMANDS
    ]


def results_table(results):
    """Native vs batch, per backend and row count, with the ratios the targets speak of."""
    lines = [
        '| backend | rows | native up+down | native vs 0 rows | batch up+down | '
        'batch vs 0 rows | batch / native | `flask db upgrade` (native, whole command) |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ]
    by = {(r['backend'], r['rows'], r['variant']): r for r in results}
    for backend, rows, _ in [k for k in by if k[2] == 'native']:
        native, batch = by[(backend, rows, 'native')], by[(backend, rows, 'batch')]
        empty_n, empty_b = by[(backend, 0, 'native')], by[(backend, 0, 'batch')]
        lines.append(
            f'| {backend} | {rows:,} | {ms(native["up_down_s"])} | '
            f'{native["up_down_s"] / empty_n["up_down_s"]:.2f}× | {ms(batch["up_down_s"])} | '
            f'{batch["up_down_s"] / empty_b["up_down_s"]:.1f}× | '
            f'{batch["up_down_s"] / native["up_down_s"]:.1f}× | {ms(native["cli_upgrade_s"])} |'
        )
    return '\n'.join(lines)


def startup_table(startup):
    """This project's start-up against the minimal app's."""
    lines = [
        '| command (up-to-date database) | minimal Flask-Migrate app | this project | ratio |',
        '| --- | ---: | ---: | ---: |',
    ]
    for s in startup:
        lines.append(
            f'| `{s["command"]}` | {ms(s["minimal_s"])} | {ms(s["project_s"])} | '
            f'{s["project_s"] / s["minimal_s"]:.2f}× |'
        )
    return '\n'.join(lines)


def scale_table(scale):
    """What it costs to make the rows, and to rehearse the renames over them."""
    lines = [
        '| backend | rows | `flask seed --rows N` (both tables) | '
        '`flask db rehearse` (revision 2 to head) |',
        '| --- | ---: | ---: | ---: |',
    ]
    for s in scale:
        lines.append(
            f'| {s["backend"]} | {s["rows"]:,} | {ms(s["seed_s"])} | {ms(s["rehearse_s"])} |'
        )
    return '\n'.join(lines)


def targets(results, startup):
    """The README's targets, each as (held?, what it says)."""
    checks = []
    by = {(r['backend'], r['rows'], r['variant']): r for r in results}
    for backend in dict.fromkeys(r['backend'] for r in results):
        most = max(r['rows'] for r in results if r['backend'] == backend)
        growth = {
            v: by[(backend, most, v)]['up_down_s'] / by[(backend, 0, v)]['up_down_s']
            for v in ('native', 'batch')
        }
        native, batch = growth['native'], growth['batch']
        checks.append(
            (
                native <= 1.5,
                f'{backend}: native renames at {most:,} rows take '
                f'{native:.2f}× the empty time (target ≤ 1.5×)',
            )
        )
        if backend == 'sqlite':  # elsewhere batch mode does not copy, so it cannot grow
            checks.append(
                (
                    batch > 2 * native,
                    f'{backend}: batch mode at {most:,} rows takes '
                    f'{batch:.1f}× its empty time: it grows with the rows',
                )
            )
    checks.append((True, 'every value survived every run (checked in SQL after each step)'))
    for s in startup:
        ratio = s['project_s'] / s['minimal_s']
        checks.append(
            (
                ratio <= 1.10,
                f'`{s["command"]}` start-up is {ratio:.2f}× the minimal app (target ≤ 1.10×)',
            )
        )
    return checks


def write_csv(path, results, startup, scale):
    """Every table, one row per measurement."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', newline='') as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                'kind',
                'backend',
                'rows',
                'variant',
                'upgrade_s',
                'downgrade_s',
                'up_down_s',
                'cli_upgrade_s',
                'cli_downgrade_s',
            ]
        )
        for r in results:
            writer.writerow(
                [
                    'migration',
                    r['backend'],
                    r['rows'],
                    r['variant'],
                    *(
                        f'{r[k]:.4f}'
                        for k in (
                            'upgrade_s',
                            'downgrade_s',
                            'up_down_s',
                            'cli_upgrade_s',
                            'cli_downgrade_s',
                        )
                    ),
                ]
            )
        for s in startup:
            writer.writerow(
                [
                    'startup',
                    'sqlite',
                    '',
                    s['command'],
                    f'{s["minimal_s"]:.4f}',
                    f'{s["project_s"]:.4f}',
                    '',
                    '',
                    '',
                ]
            )
        for s in scale:
            writer.writerow(
                [
                    'seed+rehearse',
                    s['backend'],
                    s['rows'],
                    '',
                    f'{s["seed_s"]:.4f}',
                    f'{s["rehearse_s"]:.4f}',
                    '',
                    '',
                    '',
                ]
            )


def ms(seconds):
    """'12.3 ms' or '1.42 s'."""
    return f'{seconds * 1000:.1f} ms' if seconds < 1 else f'{seconds:.2f} s'


if __name__ == '__main__':
    sys.exit(main())
