"""DRF's plaintext tokens become hashed ApiTokens: the same keys keep working, for 90 days.

The plaintext rows are deleted afterwards, so no key stays readable in the database.
"""

import hashlib
from datetime import timedelta

from django.db import migrations
from django.utils import timezone

DAYS_LEFT = 90


def hash_existing_tokens(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("accounts", "ApiToken")
    now = timezone.now()
    for old in Token.objects.all():
        ApiToken.objects.create(
            user_id=old.user_id,
            prefix=old.key[:8],
            secret_hash=hashlib.sha256(old.key.encode()).hexdigest(),
            created=old.created or now,
            expires_at=now + timedelta(days=DAYS_LEFT),
        )
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_token"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [
        # Not reversible: the plaintext keys are gone on purpose.
        migrations.RunPython(hash_existing_tokens, migrations.RunPython.noop),
    ]
