"""initial migration

Revision ID: 15537423c56d
Revises: 
Create Date: 2023-06-19 14:56:05.471520

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '15537423c56d'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('employees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('salary', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade():
    op.drop_table('employees')
