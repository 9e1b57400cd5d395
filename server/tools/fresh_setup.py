"""Does the README's Quick start work the first time, on a machine that has never seen pipenv?

    python3 server/tools/fresh_setup.py [PYTHON ...] [--keep]

For each interpreter (default: the one running this script) it makes an empty HOME, a bin
folder whose `python3` is that interpreter, and a fresh `git clone` of this repository (its
committed HEAD). Then it runs every bash block of the README's Quick start, line by line and
exactly as written, in one bash with `set -e`, with nothing inherited from this shell but that
PATH (`python3`, then /usr/bin and /bin) and the HOME: no pipenv, no pip configuration, no
caches. Last it checks that the project's virtual environment runs the same Python.

Prints each line's wall time and exits 1 at the first interpreter that fails. Needs git and
network access to the package index, as a student's machine does. Standard library only.
"""

import argparse
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin'
# Not the README's: which Python the project's environment runs, read back after the lines.
CHECK = 'pipenv run python -c "import platform; print(platform.python_version())" >~/used\n'


def quick_start(readme):
    """The command lines of the bash blocks in the README's Quick start section, in order."""
    section = readme.split('\n## Quick start\n')[1].split('\n## ')[0]
    blocks = re.findall(r'^```bash\n(.*?)^```', section, re.M | re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def timed_script(lines):
    """A bash script that runs `lines` as written and prints each one's wall time."""
    steps = [f'echo "$ "{shlex.quote(line)}\ntime {{\n{line}\n}}' for line in lines]
    return 'set -eo pipefail\nTIMEFORMAT="took %1Rs"\n' + '\n'.join(steps) + '\n'


def real_python(interpreter):
    """The executable behind `interpreter` (a pyenv shim resolves to the version it runs)."""
    found = shutil.which(interpreter)
    if found is None:
        sys.exit(f'Error: no Python interpreter at {interpreter}')
    code = 'import sys; print(sys.executable); print(sys.version.split()[0])'
    executable, version = subprocess.run(
        [found, '-c', code], capture_output=True, text=True, check=True
    ).stdout.split()
    return executable, version


def fresh_setup(interpreter, keep=False):
    """Run the Quick start for one interpreter; True when every line and the check passed."""
    executable, version = real_python(interpreter)
    scratch = Path(tempfile.mkdtemp(prefix=f'fresh-setup-{version}-'))
    home, bin_dir, clone = scratch / 'home', scratch / 'bin', scratch / 'repo'
    home.mkdir()
    bin_dir.mkdir()
    (bin_dir / 'python3').symlink_to(executable)
    path = f'{bin_dir}:{SYSTEM_PATH}'
    env = {'HOME': str(home), 'PATH': path, 'LANG': 'C.UTF-8'}
    print(f'== Python {version} ({executable}) in {scratch}', flush=True)
    try:
        if shutil.which('pipenv', path=path) or _imports_pipenv(executable):
            print('   pipenv is already there: pick an interpreter without it')
            return False
        subprocess.run(['git', 'clone', '--quiet', str(REPO), str(clone)], check=True)
        lines = quick_start((clone / 'README.md').read_text())
        start = time.monotonic()
        ran = subprocess.run(['bash', '-c', timed_script(lines) + CHECK], cwd=clone, env=env)
        print(f'   Quick start: exit status {ran.returncode}, {time.monotonic() - start:.0f} s')
        used = (home / 'used').read_text().strip() if ran.returncode == 0 else None
        print(f'   pipenv run python: Python {used}')
        return used == version
    finally:
        if keep:
            print(f'   kept {scratch}')
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def _imports_pipenv(executable):
    """Whether the interpreter itself has pipenv installed."""
    probe = subprocess.run([executable, '-c', 'import pipenv'], capture_output=True)
    return probe.returncode == 0


def main():
    """Parse the arguments and try each interpreter in turn."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('pythons', nargs='*', default=[sys.executable], metavar='PYTHON')
    parser.add_argument('--keep', action='store_true', help='keep the scratch folders')
    args = parser.parse_args()
    for interpreter in args.pythons:
        if not fresh_setup(interpreter, keep=args.keep):
            sys.exit(f'Error: the Quick start failed on {interpreter}')
    print('The Quick start worked the first time on every interpreter.')


if __name__ == '__main__':
    main()
