"""tools/fresh_setup.py: the README's Quick start, read and run line by line as written."""

import subprocess

from tools import fresh_setup

README = """# Title

## Quick start

Some words, then `inline code` that is no command.

```bash
first line
second line  # with a comment
```

```pycon
>>> not bash
```

```bash
third line
```

## Tests

```bash
not in the quick start
```
"""


def test_quick_start_is_every_bash_line_of_its_section_in_order():
    assert fresh_setup.quick_start(README) == [
        'first line',
        'second line  # with a comment',
        'third line',
    ]


def test_the_script_runs_each_line_as_written_and_stops_at_the_first_failure(tmp_path):
    lines = ['echo 1 >>log', 'export X=2  # a comment', 'echo $X >>log', 'false', 'echo 3 >>log']
    script = fresh_setup.timed_script(lines)
    ran = subprocess.run(['bash', '-c', script], cwd=tmp_path, capture_output=True, text=True)
    assert ran.returncode == 1
    assert (tmp_path / 'log').read_text() == '1\n2\n'
    assert ran.stdout.splitlines() == [f'$ {line}' for line in lines[:4]]
    assert ran.stderr.count('took ') == 4
