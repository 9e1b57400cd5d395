"""rename address to location

Revision ID: 76f31678b786
Revises: 1694ecedb24d
Create Date: 2023-06-19 15:21:58.940112

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '76f31678b786'
down_revision = '1694ecedb24d'
branch_labels = None
depends_on = None


def upgrade():
    # Hand-edited: autogenerate wrote add 'location' + drop 'address', which loses every address.
    # A native RENAME COLUMN, no table copy; MySQL/MariaDB restate the column, hence existing_type.
    op.alter_column('departments', 'address', new_column_name='location', existing_type=sa.String())


def downgrade():
    # Hand-edited: the exact reverse of upgrade(), so the values return to 'address'.
    op.alter_column('departments', 'location', new_column_name='address', existing_type=sa.String())
