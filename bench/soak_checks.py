"""The chaos soak's data: the seed (partners, administrators, tenants) and the invariants,
read at the end from both sides — ucfleet's tables and the simulator's own log.

Django is set up by the caller (bench/soak.py) for the soak's own database.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

OLD, NEW = "30.1", "30.2"
KNOWN_REASONS = {
    "update failed: restored": re.compile(r"^update failed: restored to 30\.1$"),
    "interrupted: worker lost": re.compile(r"^interrupted: worker lost$"),
    "busy: N active calls": re.compile(r"^busy: \d+ active calls?$"),
}
STATUS_OF_VALUE = {"waiting": "planned"}  # "waiting: busy: 2 active calls" leaves it planned


def seed(*, tasks: int, requests: int) -> list[str]:
    """`tasks` tenants spread over `requests` partners (one request each), each partner
    with one administrator; returns the partner names."""
    from ucfleet.accounts.choices import Profile
    from ucfleet.accounts.models import Administrator
    from ucfleet.tenants.models import Partner, Tenant
    from ucfleet.versions.models import SoftwareVersion

    old, _ = SoftwareVersion.objects.get_or_create(name=OLD)
    SoftwareVersion.objects.get_or_create(name=NEW)
    partners = [Partner.objects.create(name=f"Soak Partner {n + 1}") for n in range(requests)]
    for n, partner in enumerate(partners):
        Administrator.objects.create(
            username=f"soak-admin-{n + 1}",
            email=f"admin{n + 1}@partner.example",
            profile=Profile.PARTNER,
            partner=partner,
        )
    Tenant.objects.bulk_create(
        (
            Tenant(
                name=f"soak-{i:06d}",
                domain=f"soak-{i:06d}.uc.example",
                partner=partners[i % requests],
                version=old,
                instance_id=f"uc-soak-{i:06d}",
                notification_email=f"customer{i:06d}@customer.example",
            )
            for i in range(tasks)
        ),
        batch_size=1000,
    )
    return [p.name for p in partners]


def instance_ids(partner_name: str) -> list[str]:
    from ucfleet.tenants.models import Tenant

    return list(
        Tenant.objects.filter(partner__name=partner_name)
        .order_by("id")
        .values_list("instance_id", flat=True)
    )


@dataclass
class Report:
    figures: dict[str, object] = field(default_factory=dict)
    invariants: dict[str, list[str]] = field(default_factory=dict)  # name → violations

    def check(self, name: str, violations: list[str]) -> None:
        self.invariants[name] = violations

    @property
    def ok(self) -> bool:
        return not any(self.invariants.values())


def _status_of(value: str) -> str:
    head = value.split(":", 1)[0].strip()
    return STATUS_OF_VALUE.get(head, head)


def check_all(
    report: Report,
    *,
    sim_log: Callable[[int], list[dict]],
    sim_tenant: Callable[[str], dict],
    faulted: set[str],
    received: Counter[str],
    stuck_seen: list[str],
) -> None:
    from ucfleet.audit.models import ChangeLogEntry
    from ucfleet.notifications.models import Notification
    from ucfleet.notifications.sender import message_id
    from ucfleet.tenants.models import Tenant
    from ucfleet.updates.models import TaskAttempt, UpdateTask

    waves = any(f.name == "wave" for f in UpdateTask._meta.get_fields())  # rollouts (R20)
    tasks = list(
        UpdateTask.objects.values(
            "pk",
            "status",
            "failure_reason",
            "tenant__instance_id",
            "tenant__version__name",
            *(["rollout_id", "wave"] if waves else []),
        )
    )
    by_status = Counter(t["status"] for t in tasks)
    report.figures["tasks"] = len(tasks)
    report.figures["tasks by status"] = dict(sorted(by_status.items()))

    # No task stuck in progress after the TTL (live samples during the run, and at the end).
    report.check(
        "no task stuck in progress after the TTL",
        stuck_seen
        + [
            f"task {t['pk']} is {t['status']}"
            for t in tasks
            if t["status"] not in ("executed", "failed")
        ],
    )

    # Every failure with a known reason; failures of updates match the faults we set.
    reasons: Counter[str] = Counter()
    unknown, mismatched = [], []
    for t in tasks:
        if t["status"] != "failed":
            continue
        kind = next((k for k, rx in KNOWN_REASONS.items() if rx.match(t["failure_reason"])), None)
        if kind is None:
            unknown.append(f"task {t['pk']}: {t['failure_reason']!r}")
            reasons[f"unknown: {t['failure_reason'][:60]}"] += 1
            continue
        reasons[kind] += 1
        if kind == "update failed: restored" and t["tenant__instance_id"] not in faulted:
            mismatched.append(f"task {t['pk']} failed its update without a fault")
    for t in tasks:
        if t["status"] == "executed" and t["tenant__instance_id"] in faulted:
            mismatched.append(f"task {t['pk']} executed although its update had a fault")
    report.figures["failures by reason"] = dict(reasons.most_common())
    report.check("every failure has a known reason", unknown)
    report.check("update failures are exactly the simulator's faults", mismatched)

    # Both sides: no tenant updated twice for one task; executed ⇔ updated on the simulator.
    twice, disagree = [], []
    far_updates = 0
    for t in tasks:
        log = sim_log(t["pk"])
        updates = [e for e in log if e["step"] == "update"]
        far_updates += len(updates)
        if len(updates) > 1:
            twice.append(f"task {t['pk']}: {len(updates)} update steps on the simulator")
        succeeded = [e for e in updates if e["outcome"] == "succeeded"]
        if t["status"] == "executed":
            if len(succeeded) != 1 or t["tenant__version__name"] != NEW:
                disagree.append(f"task {t['pk']} executed, simulator ran {len(succeeded)} updates")
            elif sim_tenant(t["tenant__instance_id"])["version"] != NEW:
                disagree.append(f"task {t['pk']} executed, simulator tenant not on {NEW}")
        elif t["failure_reason"].startswith("update failed: restored"):
            far = [(e["step"], e["outcome"]) for e in log][-2:]
            if far != [("update", "failed"), ("restore", "succeeded")]:
                disagree.append(f"task {t['pk']} restored, simulator ran {far}")
            elif t["tenant__version__name"] != OLD:
                disagree.append(f"task {t['pk']} restored, ucfleet tenant not on {OLD}")
    report.figures["update steps on the simulator"] = far_updates
    report.check("no tenant updated twice for one task (simulator log)", twice)
    report.check("executed and restored tasks agree with the simulator", disagree)
    old_new = Counter(Tenant.objects.values_list("version__name", flat=True))
    report.figures["tenants by version (ucfleet)"] = dict(sorted(old_new.items()))

    # A change-log entry for every transition: the status entries of each task form a chain
    # from planned to its status, with one "start" per attempt.
    attempts = Counter(TaskAttempt.objects.values_list("task_id", flat=True))
    chains: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for object_id, action, old, new in (
        ChangeLogEntry.objects.filter(object_type="update_task", field="status")
        .order_by("at", "id")
        .values_list("object_id", "action", "old", "new")
    ):
        chains[int(object_id)].append((action, old, new))
    # A wave's release (held → planned) is one entry of its rollout, "release" "wave N".
    released = set()
    if waves:
        released = {
            (int(object_id), name.removeprefix("wave "))
            for object_id, name in ChangeLogEntry.objects.filter(
                object_type="rollout", action="release"
            ).values_list("object_id", "field")
        }
    broken = []
    for t in tasks:
        chain = chains.get(t["pk"], [])
        state = "planned"
        if waves and t["wave"] is not None and t["wave"] > 1:
            state = "held"
            if (t["rollout_id"], str(t["wave"])) in released:
                state = "planned"
            elif chain:
                broken.append(f"task {t['pk']}: ran, its wave {t['wave']} was never released")
        for action, old, new in chain:
            if _status_of(old) != state:
                broken.append(f"task {t['pk']}: {action} from {old!r} while {state!r}")
                break
            state = _status_of(new)
        else:
            if state != t["status"]:
                broken.append(f"task {t['pk']}: change log ends {state!r}, task is {t['status']}")
        starts = sum(1 for a, _, _ in chain if a == "start")
        if starts != attempts.get(t["pk"], 0):
            broken.append(f"task {t['pk']}: {starts} start entries, {attempts[t['pk']]} attempts")
    report.figures["attempts"] = sum(attempts.values())
    report.figures["attempts by outcome"] = dict(
        Counter(TaskAttempt.objects.values_list("outcome", flat=True)).most_common()
    )
    report.figures["change-log entries (task status)"] = sum(len(c) for c in chains.values())
    report.check("a change-log entry for every transition", broken)

    # Every e-mail delivered exactly once, by its Message-ID. Decision 0005 is at least once:
    # a sender killed between the server's 250 and marking the row sent leaves a claim that
    # is taken back and sent again, with the same Message-ID. Such a copy is allowed only
    # for a row claimed more than once, and counted; any other second copy is a violation.
    outbox = list(Notification.objects.values_list("status", "idempotency_key", "attempts"))
    expected = {message_id(key): status for status, key, _ in outbox}
    claims = {message_id(key): attempts for _, key, attempts in outbox}
    undelivered = [f"{mid}: {s}" for mid, s in expected.items() if s != "sent"]
    missing = [mid for mid, s in expected.items() if s == "sent" and received[mid] == 0]
    doubled = {mid: n for mid, n in received.items() if n > 1}
    unexplained = [
        f"{mid} ×{n} after {claims.get(mid, 0)} claim(s)"
        for mid, n in doubled.items()
        if n > claims.get(mid, 0)
    ]
    strangers = [mid for mid in received if mid not in expected]
    report.figures["e-mails"] = {
        "outbox": len(outbox),
        "sent": sum(1 for s in expected.values() if s == "sent"),
        "received": sum(received.values()),
        "distinct Message-IDs": len(received),
        "second copies (claim of a killed sender taken back, decision 0005)": sum(
            n - 1 for n in doubled.values()
        ),
        "rows claimed more than once": sum(1 for a in claims.values() if a > 1),
        "kinds": dict(Counter(Notification.objects.values_list("kind", flat=True))),
    }
    report.check(
        "every e-mail delivered, each Message-ID once but for a killed sender's retaken claim",
        [f"not sent: {u}" for u in undelivered]
        + [f"sent, never received: {m}" for m in missing]
        + [f"more copies than claims: {d}" for d in unexplained]
        + [f"received, not in the outbox: {s}" for s in strangers],
    )
