"""Scripted faults, busy tenants and settings, as tests of the http driver will use them."""

from __future__ import annotations

import time

from tests.simulator.process import running_simulator


def test_a_step_fault_fails_exactly_the_next_times_runs(sim, instance):
    status, tenant = sim.call("POST", f"/tenants/{instance}/faults", {"step": "backup", "times": 2})
    assert status == 200
    assert tenant["faults"]["steps"] == {"backup": {"times": 2}}
    assert tenant["version"] is None  # known from its faults only, no step ran yet

    outcomes = [sim.run_step(instance, "backup") for _ in range(3)]
    assert [o["status"] for o in outcomes] == ["failed", "failed", "succeeded"]
    assert "simulated fault" in outcomes[0]["error"]
    assert outcomes[0]["result"] is None
    tenant = sim.call("GET", f"/tenants/{instance}")[1]
    assert len(tenant["backups"]) == 1
    assert tenant["faults"]["steps"] == {}


def test_faults_for_one_step_leave_the_other_steps_alone(sim, instance):
    sim.call("POST", f"/tenants/{instance}/faults", {"step": "redeploy"})
    assert sim.run_step(instance, "pre_check")["status"] == "succeeded"
    assert sim.run_step(instance, "update")["status"] == "succeeded"
    assert sim.run_step(instance, "redeploy")["status"] == "failed"


def test_a_failed_update_leaves_the_tenant_broken_until_a_restore(sim, instance):
    backup_id = sim.run_step(instance, "backup")["result"]["backup_id"]
    sim.call("POST", f"/tenants/{instance}/faults", {"step": "update"})
    update = sim.run_step(instance, "update")
    assert update["status"] == "failed"
    assert update["error"] == "update failed (simulated fault)"
    tenant = sim.call("GET", f"/tenants/{instance}")[1]
    assert (tenant["version"], tenant["healthy"]) == ("14.9", False)

    health = sim.run_step(instance, "health_check")
    assert health["status"] == "failed"
    assert health["error"] == "health check failed: service_up, sip_registered, test_call"
    assert health["result"] == {"service_up": False, "sip_registered": False, "test_call": False}

    assert sim.run_step(instance, "restore", backup_id=backup_id)["result"] == {"version": "14.9"}
    tenant = sim.call("GET", f"/tenants/{instance}")[1]
    assert (tenant["version"], tenant["healthy"]) == ("14.9", True)
    assert sim.run_step(instance, "health_check")["status"] == "succeeded"


def test_a_health_check_fault_names_the_check_that_failed(sim, instance):
    sim.call(
        "POST",
        f"/tenants/{instance}/faults",
        {"step": "health_check", "times": 1, "check": "sip_registered"},
    )
    sim.run_step(instance, "update")
    health = sim.run_step(instance, "health_check")
    assert health["status"] == "failed"
    assert health["error"] == "health check failed: sip_registered (simulated fault)"
    assert health["result"] == {"service_up": True, "sip_registered": False, "test_call": True}
    # The tenant itself is fine (on its new version): the next check passes.
    assert sim.run_step(instance, "health_check")["status"] == "succeeded"


def test_a_failed_restore_leaves_the_tenant_unhealthy(sim, instance):
    backup_id = sim.run_step(instance, "backup")["result"]["backup_id"]
    sim.run_step(instance, "update", target_version="15.2")
    sim.call("POST", f"/tenants/{instance}/faults", {"step": "restore"})
    restore = sim.run_step(instance, "restore", backup_id=backup_id)
    assert restore["status"] == "failed"
    tenant = sim.call("GET", f"/tenants/{instance}")[1]
    assert (tenant["version"], tenant["healthy"]) == ("15.2", False)


def test_a_restore_needs_a_backup_of_that_tenant(sim, instance):
    other_backup = sim.run_step(f"{instance}-x", "backup")["result"]["backup_id"]
    sim.run_step(instance, "backup")
    for body_backup in (other_backup, "bk-none"):
        status, answer = sim.call(
            "POST",
            f"/tenants/{instance}/steps/restore",
            {
                "task_id": 1,
                "attempt_id": 1,
                "from_version": "14.9",
                "target_version": "15.0",
                "backup_id": body_backup,
            },
        )
        assert status == 400
        assert body_backup in answer["error"]
    assert [e["step"] for e in sim.call("GET", f"/tenants/{instance}/log")[1]] == ["backup"]


def test_a_busy_tenant_reports_its_calls_in_the_pre_check_until_the_time_is_up(sim, instance):
    status, tenant = sim.call(
        "POST", f"/tenants/{instance}/faults", {"busy_seconds": 1.5, "calls": 3}
    )
    assert status == 200
    assert (tenant["active_calls"], tenant["faults"]["busy"]["calls"]) == (3, 3)

    busy = sim.run_step(instance, "pre_check")
    assert busy["status"] == "succeeded"  # waiting is ucfleet's decision, not a failure
    assert busy["result"]["active_calls"] == 3

    deadline = time.monotonic() + 20
    while sim.call("GET", f"/tenants/{instance}")[1]["active_calls"] and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    idle = sim.run_step(instance, "pre_check")
    assert idle["result"]["active_calls"] == 0
    assert sim.call("GET", f"/tenants/{instance}")[1]["faults"]["busy"] is None


def test_deleting_the_faults_clears_steps_and_calls(sim, instance):
    sim.call("POST", f"/tenants/{instance}/faults", {"step": "update", "times": 5})
    sim.call("POST", f"/tenants/{instance}/faults", {"busy_seconds": 600, "calls": 2})
    status, tenant = sim.call("DELETE", f"/tenants/{instance}/faults")
    assert status == 200
    assert tenant["faults"] == {"steps": {}, "busy": None}
    assert tenant["active_calls"] == 0
    assert sim.run_step(instance, "update")["status"] == "succeeded"
    assert sim.run_step(instance, "pre_check")["result"]["active_calls"] == 0
    assert sim.call("DELETE", f"/tenants/{instance}-never/faults")[0] == 404


def test_settings_change_only_what_is_given():
    with running_simulator("--step-seconds", "0.25") as sim:
        status, settings = sim.call("GET", "/settings")
        assert status == 200
        assert settings == {
            "step_seconds": 0.25,
            "per_step_seconds": {},
            "fail_percent": {},
            "busy_percent": 0.0,
            "busy_seconds": 10.0,
            "seed": None,
        }
        status, changed = sim.call(
            "PUT", "/settings", {"step_seconds": 0.01, "per_step_seconds": {"update": 0.02}}
        )
        assert status == 200
        assert changed == {**settings, "step_seconds": 0.01, "per_step_seconds": {"update": 0.02}}
        assert sim.call("GET", "/settings")[1] == changed


def test_per_step_seconds_make_one_step_outlast_the_others():
    with running_simulator("--step-seconds", "0.01") as sim:
        sim.call("PUT", "/settings", {"per_step_seconds": {"update": 3600}})
        slow = sim.start_step("uc-slow", "update")
        assert sim.run_step("uc-fast", "pre_check")["status"] == "succeeded"
        assert sim.call("GET", f"/operations/{slow}")[1]["status"] == "running"
        assert sim.call("GET", "/healthz")[1]["operations_running"] == 1


def test_fail_and_busy_percent_make_random_failures_and_busy_tenants():
    with running_simulator("--step-seconds", "0") as sim:
        sim.call("PUT", "/settings", {"fail_percent": {"backup": 100}, "busy_percent": 100})
        backup = sim.run_step("uc-r1", "backup")
        assert backup["status"] == "failed"
        assert "random" in backup["error"]
        assert 1 <= sim.run_step("uc-r1", "pre_check")["result"]["active_calls"] <= 5

        sim.call("PUT", "/settings", {"fail_percent": {}, "busy_percent": 0})
        assert sim.run_step("uc-r2", "backup")["status"] == "succeeded"
        assert sim.run_step("uc-r2", "pre_check")["result"]["active_calls"] == 0


def test_a_seed_makes_the_random_failures_repeat():
    def failures() -> list[str]:
        sim.call("PUT", "/settings", {"fail_percent": {"update": 50}, "seed": 7})
        return [sim.run_step(f"uc-s{i}", "update")["status"] for i in range(12)]

    with running_simulator("--step-seconds", "0") as sim:
        first = failures()
        assert failures() == first
        assert {"failed", "succeeded"} == set(first)
