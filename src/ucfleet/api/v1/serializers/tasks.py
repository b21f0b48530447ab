"""Update tasks as answered, and the bodies that create, preview and change them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ucfleet.api.fields import (
    MAX_ID,
    IdField,
    IdOrNameField,
    StrictBooleanField,
    UtcDateTimeField,
    utc_text,
)
from ucfleet.tenants.filtering import MAX_SEARCH, TenantFilter
from ucfleet.updates.choices import Status, TaskType, Timing
from ucfleet.updates.models import TaskAttempt, TaskStep, UpdateTask
from ucfleet.updates.rules import allowed_actions

MAX_IDS = 100_000


class TaskTenantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    instance_id = serializers.CharField()


class TaskPartnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TaskSerializer(serializers.ModelSerializer):
    """A task in answers and lists (API.md). Versions are given by name; their ids are in
    `from_version_id` / `target_version_id`."""

    tenant = TaskTenantSerializer(read_only=True)
    partner = TaskPartnerSerializer(read_only=True)
    from_version = serializers.CharField(source="from_version.name", read_only=True)
    from_version_id = serializers.IntegerField(read_only=True)
    target_version = serializers.CharField(source="target_version.name", read_only=True)
    target_version_id = serializers.IntegerField(read_only=True)
    forced = serializers.BooleanField(source="is_forced", read_only=True)
    scheduled_by = serializers.CharField(
        source="scheduled_by.username", read_only=True, allow_null=True, default=None
    )
    earliest_start = UtcDateTimeField(read_only=True)
    latest_start = UtcDateTimeField(read_only=True, allow_null=True)
    created = UtcDateTimeField(read_only=True)
    started = UtcDateTimeField(read_only=True, allow_null=True)
    finished = UtcDateTimeField(read_only=True, allow_null=True)
    rollout = serializers.IntegerField(
        source="rollout_id", read_only=True, allow_null=True, help_text="The task's rollout (R18)"
    )
    wave = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Its wave in the rollout, from 1 (R20)"
    )
    actions = serializers.SerializerMethodField(
        help_text="What the requesting administrator may do to the task now: a subset of "
        "postpone, retry, delete (R7, R9, R14)"
    )

    class Meta:
        model = UpdateTask
        fields = [
            "id",
            "tenant",
            "partner",
            "task_type",
            "from_version",
            "from_version_id",
            "target_version",
            "target_version_id",
            "timing",
            "earliest_start",
            "latest_start",
            "forced",
            "redeploy",
            "notify_partner",
            "notify_customer",
            "status",
            "scheduled_by",
            "created",
            "started",
            "finished",
            "failure_reason",
            "request_id",
            "retry_of",
            "actions",
            "wait_for_idle",
            "waiting_reason",
            "rollout",
            "wave",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, task: UpdateTask) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return [str(action) for action in allowed_actions(request.user, task)]

    def to_representation(self, instance: UpdateTask) -> dict[str, Any]:
        """The fields above, read directly: DRF's field-by-field path costs ~0.2 ms a task,
        most of a list page (bench/lists.py). tests/api/test_fast_rows.py holds this equal
        to DRF's own output; a subclass (the detail) keeps DRF's path."""
        if type(self) is not TaskSerializer:
            return super().to_representation(instance)
        t = instance
        tenant, partner = t.tenant, t.partner
        return {
            "id": t.pk,
            "tenant": {"id": tenant.id, "name": tenant.name, "instance_id": tenant.instance_id},
            "partner": {"id": partner.id, "name": partner.name},
            "task_type": t.task_type,
            "from_version": t.from_version.name,
            "from_version_id": t.from_version_id,
            "target_version": t.target_version.name,
            "target_version_id": t.target_version_id,
            "timing": t.timing,
            "earliest_start": utc_text(t.earliest_start),
            "latest_start": utc_text(t.latest_start),
            "forced": bool(t.is_forced),
            "redeploy": bool(t.redeploy),
            "notify_partner": bool(t.notify_partner),
            "notify_customer": bool(t.notify_customer),
            "status": t.status,
            "scheduled_by": t.scheduled_by.username if t.scheduled_by is not None else None,
            "created": utc_text(t.created),
            "started": utc_text(t.started),
            "finished": utc_text(t.finished),
            "failure_reason": t.failure_reason,
            "request_id": str(t.request_id),
            "retry_of": t.retry_of_id,
            "actions": self.get_actions(t),
            "wait_for_idle": bool(t.wait_for_idle),
            "waiting_reason": t.waiting_reason,
            "rollout": t.rollout_id,
            "wave": t.wave,
        }


class AttemptSerializer(serializers.ModelSerializer):
    start = UtcDateTimeField(source="started", read_only=True)
    end = UtcDateTimeField(source="finished", read_only=True, allow_null=True)

    class Meta:
        model = TaskAttempt
        fields = ["start", "end", "outcome", "log", "worker_name"]
        read_only_fields = fields


class StepSerializer(serializers.ModelSerializer):
    """One step as the driver ran it (R24; step names of docs/drivers.md)."""

    started = UtcDateTimeField(read_only=True)
    finished = UtcDateTimeField(read_only=True)
    attempt = serializers.IntegerField(source="attempt_id", read_only=True)

    class Meta:
        model = TaskStep
        fields = ["step", "started", "finished", "outcome", "output", "attempt"]
        read_only_fields = fields


class TaskDetailSerializer(TaskSerializer):
    attempts = AttemptSerializer(many=True, read_only=True)
    steps = StepSerializer(many=True, read_only=True)
    next_check = UtcDateTimeField(
        read_only=True,
        allow_null=True,
        help_text="R25: when a task waiting for a busy tenant is checked again",
    )

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "attempts", "steps", "next_check"]
        read_only_fields = fields


MAX_FILTER_ITEMS = 1000


class TenantFilterBodySerializer(serializers.Serializer):
    """R19 `filter`: the tenants `GET /tenants/` lists for the same criteria (each narrows;
    an omitted or null flag means any). Naming a partner, version or scale unit outside the
    caller's scope answers 404; a filter that matches nothing answers 400."""

    partner = serializers.ListField(
        child=IdField(), required=False, max_length=MAX_FILTER_ITEMS, help_text="Partner ids"
    )
    version = serializers.ListField(
        child=IdOrNameField(),
        required=False,
        max_length=MAX_FILTER_ITEMS,
        help_text="Current software versions, by id or name",
    )
    scale_unit = serializers.ListField(
        child=IdField(), required=False, max_length=MAX_FILTER_ITEMS, help_text="Scale unit ids"
    )
    is_productive = StrictBooleanField(required=False, allow_null=True)
    is_test = StrictBooleanField(required=False, allow_null=True)
    is_nfr = StrictBooleanField(required=False, allow_null=True)
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_SEARCH,
        help_text="Part of the name, domain, customer ID or instance ID",
    )

    def to_internal_value(self, data: Any) -> Any:
        # Fail closed: a misspelt criterion must not widen the selection to every tenant.
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {key: ["Not a filter criterion."] for key in unknown}
                )
        return super().to_internal_value(data)

    @staticmethod
    def to_filter(attrs: dict) -> TenantFilter:
        return TenantFilter.of(
            partner_ids=attrs.get("partner", ()),
            versions=attrs.get("version", ()),
            scale_unit_ids=attrs.get("scale_unit", ()),
            is_productive=attrs.get("is_productive"),
            is_test=attrs.get("is_test"),
            is_nfr=attrs.get("is_nfr"),
            search=attrs.get("search"),
        )


class WaveSpecSerializer(serializers.Serializer):
    """One wave: a number of tenants or a percentage of all (the last wave takes the rest)."""

    count = serializers.IntegerField(required=False, min_value=1, max_value=MAX_IDS)
    percent = serializers.FloatField(required=False, min_value=0.001, max_value=100)

    def validate(self, attrs: dict) -> dict:
        if len(attrs) != 1:
            raise serializers.ValidationError('Give exactly one of "count" and "percent".')
        return attrs


class ErrorBudgetSerializer(serializers.Serializer):
    """R21: a number of failed tasks, or a percentage of the ended ones (counted once ≥ 10
    have ended); exceeding it pauses the rollout."""

    max_failures = serializers.IntegerField(required=False, min_value=0, max_value=MAX_IDS)
    max_failure_percent = serializers.FloatField(required=False, min_value=0, max_value=100)

    def validate(self, attrs: dict) -> dict:
        if len(attrs) != 1:
            raise serializers.ValidationError(
                'Give exactly one of "max_failures" and "max_failure_percent".'
            )
        return attrs


class ScheduleSerializer(serializers.Serializer):
    """The body of `POST /update-tasks/` and `/update-tasks/preview/` (API.md). Exactly one
    of `tenants`, `partner`, `all` and `filter` selects the tenants."""

    tenants = serializers.ListField(child=IdField(), required=False, max_length=MAX_IDS)
    partner = IdField(required=False)
    all = serializers.BooleanField(
        required=False, default=False, help_text="All tenants (platform administrators only)"
    )
    filter = TenantFilterBodySerializer(
        required=False, help_text="R19: every tenant matching these criteria"
    )
    timing = serializers.ChoiceField(choices=Timing.choices)
    start = UtcDateTimeField(
        required=False, allow_null=True, help_text="Custom timing only; server time when no offset"
    )
    target_version = IdOrNameField()
    task_type = serializers.ChoiceField(choices=TaskType.choices, default=TaskType.UPDATE)
    forced = serializers.BooleanField(default=False)
    redeploy = serializers.BooleanField(default=False)
    notify_partner = serializers.BooleanField(default=False)
    notify_customer = serializers.BooleanField(default=False)
    confirm_downgrade = serializers.BooleanField(default=False)
    confirm_auto_update_disabled = serializers.BooleanField(default=False)
    wait_for_idle = StrictBooleanField(
        default=True,
        help_text="R25: wait while the tenant has active calls (false: update regardless)",
    )
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="The rollout's name (default: target version and date)",
    )
    waves = serializers.ListField(
        child=WaveSpecSerializer(),
        required=False,
        allow_null=True,
        max_length=20,
        help_text="R20: the waves in order; default one wave",
    )
    soak_minutes = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=7 * 24 * 60
    )
    error_budget = ErrorBudgetSerializer(required=False, allow_null=True)


class SkipSerializer(serializers.Serializer):
    tenant = serializers.IntegerField(source="tenant_id")
    tenant_name = serializers.CharField()
    reason = serializers.CharField(help_text="A stable code, e.g. open_task_exists")
    text = serializers.CharField()


class NoticeSerializer(serializers.Serializer):
    tenant = serializers.IntegerField(source="tenant_id", allow_null=True)
    tenant_name = serializers.CharField(allow_blank=True)
    code = serializers.CharField(help_text="A stable code, e.g. no_customer_email")
    text = serializers.CharField()


class PlannedSerializer(serializers.Serializer):
    tenant = serializers.IntegerField(source="tenant_id")
    tenant_name = serializers.CharField()
    partner = serializers.IntegerField(source="partner_id")
    partner_name = serializers.CharField()
    earliest_start = UtcDateTimeField()
    latest_start = UtcDateTimeField(allow_null=True)
    warnings = serializers.ListField(child=serializers.CharField())
    wave = serializers.IntegerField(help_text="The tenant's wave (R20)")


class PreviewWaveSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    size = serializers.IntegerField()
    status = serializers.SerializerMethodField(
        help_text="released: planned at once; held: released when the wave before has ended"
    )

    def get_status(self, wave: Any) -> str:
        return "released" if wave.index == 1 else "held"


class PreviewSerializer(serializers.Serializer):
    planned = PlannedSerializer(many=True)
    skipped = SkipSerializer(many=True)
    warnings = NoticeSerializer(many=True)
    waves = PreviewWaveSerializer(many=True)


class ScheduleResultSerializer(serializers.Serializer):
    request_id = serializers.UUIDField(help_text="Shared by the tasks of this request")
    rollout = serializers.IntegerField(
        allow_null=True, help_text="The rollout made (R18); null when no task was created"
    )
    created_count = serializers.IntegerField()
    created = TaskSerializer(many=True)
    skipped = SkipSerializer(many=True)
    warnings = NoticeSerializer(many=True)


class RescheduleSerializer(serializers.Serializer):
    start = UtcDateTimeField(help_text="The new start; server time when no offset")
    notify_partner = serializers.BooleanField(default=False)


class BulkRescheduleSerializer(RescheduleSerializer):
    ids = serializers.ListField(child=IdField(), min_length=1, max_length=MAX_IDS)


class TaskFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    partner = IdField(required=False)
    tenant = IdField(required=False)
    timing = serializers.ChoiceField(choices=Timing.choices, required=False)
    task_type = serializers.ChoiceField(choices=TaskType.choices, required=False)
    forced = serializers.BooleanField(required=False)
    rollout = IdField(required=False)
    request = serializers.UUIDField(
        required=False, help_text="The tasks of one request (its request_id)"
    )


class TaskListQuerySerializer(TaskFilterSerializer):
    format = serializers.ChoiceField(
        choices=["json", "csv"],
        required=False,
        help_text="`csv` exports every task the filters select (not one page), streamed",
    )


class BulkDeleteSerializer(TaskFilterSerializer):
    ids = serializers.ListField(child=IdField(), required=False, min_length=1, max_length=MAX_IDS)
    all = serializers.BooleanField(
        required=False, default=False, help_text="Every task of the (filtered) list"
    )

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("ids")) == bool(attrs.get("all")):
            raise serializers.ValidationError(
                'Give either "ids" or "all": true (with the list filters).'
            )
        # Fail closed: a misspelt filter must not widen "all" to the whole list.
        given = self.initial_data if isinstance(self.initial_data, dict) else {}
        unknown = sorted(str(key) for key in given if key not in self.fields)
        if unknown:
            raise serializers.ValidationError(
                {key: ["Not a filter of the task list."] for key in unknown}
            )
        return attrs


class RefusalSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="task_id")
    reason = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):
    done = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID))
    refused = RefusalSerializer(many=True)
