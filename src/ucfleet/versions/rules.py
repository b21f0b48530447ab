"""Which target versions a tenant may get (R5). Pure: no database, no clock."""

from __future__ import annotations

from dataclasses import dataclass

from ucfleet.updates.choices import SkipReason
from ucfleet.versions.ordering import version_key


@dataclass(frozen=True, slots=True)
class VersionFacts:
    id: int
    name: str
    languages: tuple[str, ...]
    update_prohibited: bool = False
    for_testing: bool = False


def target_skip_reason(
    *,
    target: VersionFacts,
    current: VersionFacts,
    language: str,
    is_platform_admin: bool,
    allows_same_version: bool,
    confirm_downgrade: bool,
) -> SkipReason | None:
    """Why `target` cannot be scheduled for a tenant on `current`, or None."""
    if target.update_prohibited:
        return SkipReason.VERSION_PROHIBITED
    if target.for_testing and not is_platform_admin:
        return SkipReason.TEST_VERSION_FORBIDDEN
    if language not in target.languages:
        return SkipReason.LANGUAGE_UNSUPPORTED
    if target.id == current.id and not allows_same_version:
        return SkipReason.SAME_VERSION
    if is_downgrade(target=target, current=current) and not confirm_downgrade:
        return SkipReason.DOWNGRADE_NOT_CONFIRMED
    return None


def is_downgrade(*, target: VersionFacts, current: VersionFacts) -> bool:
    return version_key(target.name) < version_key(current.name)
