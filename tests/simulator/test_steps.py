"""The driver-facing contract of docs/drivers.md, spoken over HTTP to a real simulator."""

from __future__ import annotations

from tests.simulator.process import SimulatorProcess


def test_healthz_answers_without_anything_else(sim: SimulatorProcess):
    assert sim.call("GET", "/healthz") == (200, {"status": "ok", "operations_running": 0})


def test_a_step_starts_as_a_running_operation_and_is_polled_to_its_result(sim, instance):
    body = {
        "task_id": 5,
        "attempt_id": 9,
        "from_version": "14.9",
        "target_version": "15.0",
        "backup_id": None,
        "tenant": {"instance_id": instance, "name": "Acme", "partner": "Northwind"},
    }
    status, started = sim.call("POST", f"/tenants/{instance}/steps/pre_check", body)
    assert status == 202
    assert started == {"operation_id": started["operation_id"], "status": "running"}
    assert sim.last_headers["Location"] == f"/operations/{started['operation_id']}"

    operation = sim.wait(started["operation_id"])
    assert operation["operation_id"] == started["operation_id"]
    assert (operation["step"], operation["instance_id"]) == ("pre_check", instance)
    assert operation["status"] == "succeeded"
    assert operation["error"] is None
    assert operation["result"] == {
        "reachable": True,
        "version": "14.9",
        "version_supported": True,
        "active_calls": 0,
        "healthy": True,
    }
    assert operation["finished"] >= operation["started"]


def test_a_tenant_appears_on_first_use_at_the_version_ucfleet_sends(sim, instance):
    assert sim.call("GET", f"/tenants/{instance}")[0] == 404
    sim.run_step(instance, "pre_check", from_version="13.2", target_version="14.0")
    status, tenant = sim.call("GET", f"/tenants/{instance}")
    assert status == 200
    assert tenant == {
        "instance_id": instance,
        "version": "13.2",
        "active_calls": 0,
        "healthy": True,
        "backups": [],
        "faults": {"steps": {}, "busy": None},
    }
    # From then on the simulator keeps its own version, whatever ucfleet believes.
    check = sim.run_step(instance, "pre_check", task_id=2, from_version="99.0")
    assert check["result"]["version"] == "13.2"


def test_the_steps_of_an_update_in_order_move_the_tenant_to_the_target(sim, instance):
    assert sim.run_step(instance, "pre_check")["status"] == "succeeded"
    backup = sim.run_step(instance, "backup", task_id=4242)
    assert backup["status"] == "succeeded"
    backup_id = backup["result"]["backup_id"]
    assert sim.run_step(instance, "update")["result"] == {"version": "15.0"}
    assert sim.run_step(instance, "redeploy")["result"] == {"version": "15.0"}
    health = sim.run_step(instance, "health_check")
    assert health["status"] == "succeeded"
    assert health["result"] == {"service_up": True, "sip_registered": True, "test_call": True}

    tenant = sim.call("GET", f"/tenants/{instance}")[1]
    assert (tenant["version"], tenant["healthy"]) == ("15.0", True)
    assert [(b["backup_id"], b["version"], b["task_id"]) for b in tenant["backups"]] == [
        (backup_id, "14.9", 4242)
    ]
    steps = [entry["step"] for entry in sim.call("GET", f"/tenants/{instance}/log")[1]]
    assert steps == ["pre_check", "backup", "update", "redeploy", "health_check"]


def test_restore_brings_the_tenant_back_to_the_backup_version(sim, instance):
    backup_id = sim.run_step(instance, "backup")["result"]["backup_id"]
    sim.run_step(instance, "update", target_version="15.1")
    assert sim.call("GET", f"/tenants/{instance}")[1]["version"] == "15.1"

    restore = sim.run_step(instance, "restore", backup_id=backup_id)
    assert restore["status"] == "succeeded"
    assert restore["result"] == {"version": "14.9"}
    tenant = sim.call("GET", f"/tenants/{instance}")[1]
    assert (tenant["version"], tenant["healthy"]) == ("14.9", True)


def test_a_repeated_start_answers_the_same_operation_and_runs_the_step_once(sim, instance):
    first = sim.start_step(instance, "update", task_id=41, attempt_id=3)
    again = sim.start_step(instance, "update", task_id=41, attempt_id=3)
    assert again == first
    sim.wait(first)
    after_the_end = sim.call(
        "POST",
        f"/tenants/{instance}/steps/update",
        {"task_id": 41, "attempt_id": 3, "from_version": "14.9", "target_version": "15.0"},
    )
    assert after_the_end == (202, {"operation_id": first, "status": "succeeded"})
    # A new attempt is a new run; so is another step of the same attempt.
    assert sim.start_step(instance, "update", task_id=41, attempt_id=4) != first
    assert sim.start_step(instance, "health_check", task_id=41, attempt_id=3) != first

    log = sim.call("GET", f"/tenants/{instance}/log")[1]
    assert [(e["step"], e["attempt_id"]) for e in log] == [
        ("update", 3),
        ("update", 4),
        ("health_check", 3),
    ]


def test_the_same_attempt_on_another_tenant_is_a_conflict(sim, instance):
    sim.start_step(instance, "pre_check", task_id=77, attempt_id=1)
    status, answer = sim.call(
        "POST",
        f"/tenants/{instance}-other/steps/pre_check",
        {"task_id": 77, "attempt_id": 1, "from_version": "14.9", "target_version": "15.0"},
    )
    assert status == 409
    assert instance in answer["error"]
    assert sim.call("GET", f"/tenants/{instance}-other")[0] == 404


def test_the_log_lists_every_step_with_its_outcome_per_tenant_and_per_task(sim, instance):
    sim.call("POST", f"/tenants/{instance}/faults", {"step": "update"})
    sim.run_step(instance, "pre_check", task_id=9001)
    failed = sim.start_step(instance, "update", task_id=9001)
    sim.wait(failed)
    sim.run_step(f"{instance}-b", "pre_check", task_id=9002)
    sim.run_step(f"{instance}-b", "health_check", task_id=9002)

    log = sim.call("GET", f"/tenants/{instance}/log")[1]
    assert [(e["step"], e["outcome"]) for e in log] == [
        ("pre_check", "succeeded"),
        ("update", "failed"),
    ]
    entry = log[1]
    assert set(entry) == {
        "instance_id",
        "step",
        "task_id",
        "attempt_id",
        "operation_id",
        "started",
        "finished",
        "outcome",
    }
    assert (entry["operation_id"], entry["task_id"], entry["attempt_id"]) == (failed, 9001, 1)
    assert entry["started"] <= entry["finished"]

    of_task = sim.call("GET", "/log?task_id=9002")[1]
    assert [(e["instance_id"], e["step"]) for e in of_task] == [
        (f"{instance}-b", "pre_check"),
        (f"{instance}-b", "health_check"),
    ]
    updates = sim.call("GET", f"/log?task_id=9001&step=update&instance_id={instance}")[1]
    assert [e["operation_id"] for e in updates] == [failed]
    assert sim.call("GET", f"/tenants/{instance}-never/log")[0] == 404


def test_a_running_step_shows_in_the_log_without_an_end(sim, instance):
    sim.call("PUT", "/settings", {"per_step_seconds": {"backup": 3600}})
    try:
        operation_id = sim.start_step(instance, "backup")
        entry = sim.call("GET", f"/tenants/{instance}/log")[1][0]
        assert (entry["outcome"], entry["finished"]) == ("running", None)
        polled = sim.call("GET", f"/operations/{operation_id}")[1]
        assert (polled["status"], polled["result"], polled["finished"]) == ("running", None, None)
    finally:
        sim.call("PUT", "/settings", {"per_step_seconds": {}})
    # A shorter duration applies to the running operation too: it ends now.
    assert sim.wait(operation_id)["status"] == "succeeded"


def test_an_instance_id_may_hold_any_character_when_percent_encoded(sim):
    instance = "pod 7/uc-ü?#1"
    assert sim.run_step(instance, "pre_check")["instance_id"] == instance
    status, tenant = sim.call("GET", "/tenants/pod%207%2Fuc-%C3%BC%3F%231")
    assert (status, tenant["instance_id"]) == (200, instance)


def test_an_unknown_operation_is_404(sim):
    status, answer = sim.call("GET", "/operations/op-none")
    assert status == 404
    assert "op-none" in answer["error"]
