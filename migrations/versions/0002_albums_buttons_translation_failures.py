"""Jobs: album (media group), kind of file, attention map sent, translation failed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 01:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('media_group_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('file_kind', sa.String(length=16), nullable=False,
                                   server_default='photo'))
        batch.add_column(sa.Column('attention_message_id', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('translation_failed', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.create_index('ix_jobs_chat_album', ['chat_id', 'media_group_id'])


def downgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.drop_index('ix_jobs_chat_album')
        batch.drop_column('translation_failed')
        batch.drop_column('attention_message_id')
        batch.drop_column('file_kind')
        batch.drop_column('media_group_id')
