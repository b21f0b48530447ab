"""Rollouts as answered (API.md "Rollouts"), each as the requesting administrator sees it:
a partner administrator reads the counts of its own tenants only (R1, R18)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ucfleet.api.fields import IdField, IdOrNameField, UtcDateTimeField
from ucfleet.rollouts.choices import RolloutStatus, WaveStatus
from ucfleet.rollouts.models import Rollout
from ucfleet.rollouts.queries import COUNT_KEYS, paused_reason_for, rollout_counts, status_for


class CountsSerializer(serializers.Serializer):
    planned = serializers.IntegerField()
    held = serializers.IntegerField()
    waiting = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    executed = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class WaveSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    size = serializers.IntegerField()
    status = serializers.ChoiceField(choices=WaveStatus.choices)
    released_at = UtcDateTimeField(allow_null=True)
    ended_at = UtcDateTimeField(allow_null=True)
    counts = CountsSerializer()


class ErrorBudgetAnswer(serializers.Serializer):
    max_failures = serializers.IntegerField(required=False)
    max_failure_percent = serializers.FloatField(required=False)


class RolloutSerializer(serializers.ModelSerializer):
    """A rollout in lists: its options and status, without counts."""

    status = serializers.SerializerMethodField()
    paused_reason = serializers.SerializerMethodField()
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )
    created = UtcDateTimeField(read_only=True)
    target_version = serializers.CharField(source="target_version.name", read_only=True)
    target_version_id = serializers.IntegerField(read_only=True)
    error_budget = serializers.SerializerMethodField()

    class Meta:
        model = Rollout
        fields = [
            "id",
            "name",
            "status",
            "paused_reason",
            "created_by",
            "created",
            "target_version",
            "target_version_id",
            "timing",
            "task_type",
            "forced",
            "redeploy",
            "notify_partner",
            "notify_customer",
            "wait_for_idle",
            "soak_minutes",
            "error_budget",
            "request_id",
        ]
        read_only_fields = fields

    def _admin(self) -> Any:
        return self.context["request"].user

    @extend_schema_field(serializers.ChoiceField(choices=RolloutStatus.choices))
    def get_status(self, rollout: Rollout) -> str:
        return status_for(self._admin(), rollout)

    @extend_schema_field(serializers.CharField())
    def get_paused_reason(self, rollout: Rollout) -> str:
        return paused_reason_for(self._admin(), rollout)

    @extend_schema_field(ErrorBudgetAnswer(allow_null=True))
    def get_error_budget(self, rollout: Rollout) -> dict[str, Any] | None:
        return rollout.error_budget


class RolloutDetailSerializer(RolloutSerializer):
    """A rollout with its counts and waves (the caller's part of them)."""

    counts = serializers.SerializerMethodField()
    waves = serializers.SerializerMethodField()

    class Meta(RolloutSerializer.Meta):
        fields = [*RolloutSerializer.Meta.fields, "counts", "waves"]
        read_only_fields = fields

    def _counts(self, rollout: Rollout) -> Any:
        cache = self.context.setdefault("_counts", {})
        if rollout.pk not in cache:
            cache[rollout.pk] = rollout_counts(self._admin(), rollout)
        return cache[rollout.pk]

    @extend_schema_field(CountsSerializer)
    def get_counts(self, rollout: Rollout) -> dict[str, int]:
        return dict(self._counts(rollout).total)

    @extend_schema_field(WaveSerializer(many=True))
    def get_waves(self, rollout: Rollout) -> Any:
        counts = self._counts(rollout)
        whole = self._admin().is_platform_admin
        answer = []
        for wave in rollout.waves.order_by("index"):
            per = counts.wave(wave.index)
            answer.append(
                {
                    "index": wave.index,
                    "size": wave.size if whole else sum(per[k] for k in COUNT_KEYS),
                    "status": wave.status,
                    "released_at": wave.released_at,
                    "ended_at": wave.ended_at,
                    "counts": per,
                }
            )
        return WaveSerializer(answer, many=True).data


class RolloutFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=RolloutStatus.choices, required=False)
    partner = IdField(required=False)
    target_version = IdOrNameField(required=False)
