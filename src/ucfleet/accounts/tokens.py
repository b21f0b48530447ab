"""API tokens: issue (the key is shown once), authenticate, revoke.

A key is 40 random hex characters; the database keeps its first characters (to find the
row quickly) and the SHA-256 of the whole key. A fast, unsalted hash is right here, unlike
for passwords: the key carries 160 random bits, so there is no dictionary to try and no
brute force that a slow hash would slow down meaningfully — and a slow hash would cost
every API request its time. The comparison is constant-time all the same.

Keys issued before hashing (DRF's plaintext authtoken) were hashed in place by the
migration `0003_hash_existing_tokens` and keep working until they expire.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from ucfleet.accounts.models import Administrator, ApiToken
from ucfleet.core.timeutils import now as utcnow

PREFIX_LENGTH = 8
# Tokens an administrator may hold at once; issuing one more drops the oldest (a script
# that logs in on every run would otherwise pile up rows).
MAX_TOKENS_PER_ADMINISTRATOR = 50


@dataclass(frozen=True)
class IssuedToken:
    key: str  # the only time the key exists outside the client: show it, never store it
    token: ApiToken


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def token_days() -> int:
    return int(settings.UCFLEET["TOKEN_DAYS"])


def issue_token(admin: Administrator) -> IssuedToken:
    """A new key for the administrator, valid for UCFLEET_TOKEN_DAYS; earlier keys stay."""
    key = secrets.token_hex(20)
    now = utcnow()
    with transaction.atomic():
        ApiToken.objects.filter(user=admin, expires_at__lte=now).delete()
        token = ApiToken.objects.create(
            user=admin,
            prefix=key[:PREFIX_LENGTH],
            secret_hash=hash_key(key),
            created=now,
            expires_at=now + timedelta(days=token_days()),
        )
        surplus = ApiToken.objects.filter(user=admin).values_list("pk", flat=True)[
            MAX_TOKENS_PER_ADMINISTRATOR:
        ]
        ApiToken.objects.filter(pk__in=list(surplus)).delete()
    return IssuedToken(key=key, token=token)


def user_for_key(key: str) -> Any:
    """The active administrator whose unexpired token this key is, or None."""
    if not isinstance(key, str) or len(key) < PREFIX_LENGTH or len(key) > 200:
        return None
    digest = hash_key(key)
    candidates = ApiToken.objects.select_related("user").filter(
        prefix=key[:PREFIX_LENGTH], expires_at__gt=utcnow()
    )
    for token in candidates:
        if hmac.compare_digest(token.secret_hash, digest) and token.user.is_active:
            return token.user
    return None


def revoke_tokens(admin: Administrator) -> int:
    """Delete all the administrator's tokens; how many there were."""
    deleted, _ = ApiToken.objects.filter(user_id=admin.pk).delete()
    return deleted
