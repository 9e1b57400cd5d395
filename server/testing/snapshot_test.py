"""The one reader of the live database and its display rules (dbtools/snapshot.py)."""

import pytest
import sqlalchemy as sa

from dbtools.settings import DatabaseURLError, check_database_url
from dbtools.snapshot import masked_url, shown


@pytest.mark.parametrize(
    'url, masked',
    [
        ('postgresql://me:s3cret@host/db', 'postgresql://me:***@host/db'),
        ('postgresql://me@host/db?password=s3cret', 'postgresql://me@host/db?password=***'),
        (
            'postgresql://me@host/db?sslmode=require&PassWord=s3cret&application_name=x',
            'postgresql://me@host/db?PassWord=***&application_name=x&sslmode=require',
        ),
        ('mysql+pymysql://root@host/db?passwd=s3cret', 'mysql+pymysql://root@host/db?passwd=***'),
        # An unencoded '@' in the password: everything up to the last '@' is hidden.
        ('postgresql://me:s3@cret@host:5432/db', 'postgresql://me:***@host:5432/db'),
        ('postgresql://me:s3/cr@et@host/db', 'postgresql://me:***@host/db'),
        ('postgresql://me:s3%40cret@host/db', 'postgresql://me:***@host/db'),
        ('postgresql://host/db?password=s3@cret', 'postgresql://host/db?password=***'),
        ('postgresql://me@host/db', 'postgresql://me@host/db'),
        ('sqlite:////tmp/app.db', 'sqlite:////tmp/app.db'),
        ('not a url: me:s3cret@host', 'not a url:***@host'),
    ],
)
def test_masked_url_hides_every_form_of_password(url, masked):
    assert masked_url(url) == masked, url
    parsed = sa.engine.make_url(url) if '://' in url else None
    if parsed is not None:
        # A URL object, as the engine holds it, is masked the same way.
        assert 's3' not in masked_url(parsed) and 'cret' not in masked_url(parsed), url


@pytest.mark.parametrize(
    'url, masked',
    [
        ('postgres://me:s3@cret@host/db', "DATABASE_URL 'postgres://me:***@host/db'"),
        ('nope://host/db?password=s3cret', "DATABASE_URL 'nope://host/db?password=***'"),
    ],
)
def test_database_url_errors_mask_the_password(url, masked):
    with pytest.raises(DatabaseURLError) as caught:
        check_database_url(url)
    message = caught.value.format_message()
    assert message.startswith(masked) and 's3' not in message, message


@pytest.mark.parametrize(
    'value, text',
    [
        (None, None),
        (True, True),
        (89000, 89000),
        (1.5, 1.5),
        (float('nan'), 'NaN'),
        (float('inf'), 'Infinity'),
        (float('-inf'), '-Infinity'),
        (b'<script>\x00\xff', '0x3c7363726970743e00ff'),
        (memoryview(b'\x01\x02'), '0x0102'),
        ({'a': [1, None]}, '{"a": [1, null]}'),
        ('x' * 200, 'x' * 200),
        ('x' * 201, 'x' * 200 + '… (1 more character)'),
        ('é' * 5_000_000, 'é' * 200 + '… (4,999,800 more characters)'),
        (b'\xab' * 101, '0x' + 'ab' * 100 + '… (1 more byte)'),
    ],
)
def test_a_cell_is_shown_as_json_safe_text_of_bounded_size(value, text):
    assert shown(value) == text
