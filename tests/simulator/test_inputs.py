"""Hostile and mistaken requests: always a 4xx with a JSON error, never a 5xx, nothing changed."""

from __future__ import annotations

import pytest

from tests.simulator.process import running_simulator

GOOD = {"task_id": 1, "attempt_id": 1, "from_version": "14.9", "target_version": "15.0"}

BAD_STEP_BODIES = [
    (b"", "not valid JSON"),
    (b"{", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b'"text"', "JSON object"),
    (b'{"task_id": NaN, "attempt_id": 1, "from_version": "1", "target_version": "2"}', "JSON"),
    (b'{"task_id": 1e999, "attempt_id": 1, "from_version": "1", "target_version": "2"}', "task_id"),
]

BAD_STEP_FIELDS = [
    ({k: v for k, v in GOOD.items() if k != "task_id"}, "task_id"),
    ({**GOOD, "task_id": "7"}, "task_id"),
    ({**GOOD, "task_id": True}, "task_id"),
    ({**GOOD, "task_id": -1}, "task_id"),
    ({**GOOD, "task_id": 10**30}, "task_id"),
    ({**GOOD, "attempt_id": 1.5}, "attempt_id"),
    ({**GOOD, "from_version": ""}, "from_version"),
    ({**GOOD, "from_version": None}, "from_version"),
    ({**GOOD, "target_version": ["15.0"]}, "target_version"),
    ({**GOOD, "target_version": "x" * 201}, "target_version"),
    ({**GOOD, "tenant": "acme"}, "tenant"),
    ({**GOOD, "tenant": {"instance_id": "uc-somebody-else"}}, "instance_id"),
    ({**GOOD, "backup_id": 5}, "backup_id"),
]


@pytest.mark.parametrize(("raw", "named"), BAD_STEP_BODIES)
def test_a_step_with_a_body_that_is_not_a_request_is_400(sim, instance, raw, named):
    status, answer = sim.call("POST", f"/tenants/{instance}/steps/update", raw=raw)
    assert status == 400
    assert named in answer["error"]
    assert sim.call("GET", f"/tenants/{instance}")[0] == 404


@pytest.mark.parametrize(("body", "named"), BAD_STEP_FIELDS)
def test_a_step_with_a_bad_field_is_400_naming_it(sim, instance, body, named):
    status, answer = sim.call("POST", f"/tenants/{instance}/steps/update", body)
    assert status == 400
    assert named in answer["error"]
    assert sim.call("GET", f"/tenants/{instance}")[0] == 404


def test_a_restore_without_a_backup_id_is_400(sim, instance):
    status, answer = sim.call("POST", f"/tenants/{instance}/steps/restore", GOOD)
    assert status == 400
    assert "backup_id" in answer["error"]


def test_an_unknown_step_is_404(sim, instance):
    status, answer = sim.call("POST", f"/tenants/{instance}/steps/reboot", GOOD)
    assert status == 404
    assert "reboot" in answer["error"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, "step"),
        ({"step": "reboot"}, "step"),
        ({"step": "update", "times": 0}, "times"),
        ({"step": "update", "times": "2"}, "times"),
        ({"step": "update", "times": 10**7}, "times"),
        ({"step": "update", "check": "test_call"}, "check"),
        ({"step": "health_check", "check": "dns"}, "check"),
        ({"times": 2}, "step"),
        ({"calls": 3}, "busy_seconds"),
        ({"busy_seconds": 0, "calls": 3}, "busy_seconds"),
        ({"busy_seconds": -5}, "busy_seconds"),
        ({"busy_seconds": "20"}, "busy_seconds"),
        ({"busy_seconds": 20, "calls": 0}, "calls"),
        ({"busy_seconds": 20, "calls": False}, "calls"),
        ({"step": "update", "colour": "red"}, "colour"),
    ],
)
def test_bad_faults_are_400_naming_the_field_and_change_nothing(sim, instance, body, named):
    status, answer = sim.call("POST", f"/tenants/{instance}/faults", body)
    assert status == 400
    assert named in answer["error"]
    assert sim.call("GET", f"/tenants/{instance}")[0] == 404


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"step_seconds": -1}, "step_seconds"),
        ({"step_seconds": 10**6}, "step_seconds"),
        ({"step_seconds": "fast"}, "step_seconds"),
        ({"per_step_seconds": {"reboot": 1}}, "per_step_seconds"),
        ({"per_step_seconds": [1]}, "per_step_seconds"),
        ({"fail_percent": {"update": 101}}, "fail_percent.update"),
        ({"fail_percent": 5}, "fail_percent"),
        ({"busy_percent": -1}, "busy_percent"),
        ({"busy_seconds": 0}, "busy_seconds"),
        ({"seed": "x"}, "seed"),
        ({"step_seconds": 0.5, "speed": 2}, "speed"),
    ],
)
def test_bad_settings_are_400_naming_the_field_and_change_nothing(sim, body, named):
    before = sim.call("GET", "/settings")[1]
    status, answer = sim.call("PUT", "/settings", body)
    assert status == 400
    assert named in answer["error"]
    assert sim.call("GET", "/settings")[1] == before


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/", 404),
        ("GET", "/tenants", 404),
        ("GET", "/tenants/uc-1/steps/update", 405),
        ("PUT", "/tenants/uc-1/faults", 405),
        ("POST", "/healthz", 405),
        ("DELETE", "/settings", 405),
        ("GET", "/log?task_id=abc", 400),
        ("GET", "/log?task_id=-3", 400),
        ("GET", "/log?step=reboot", 400),
        ("GET", "/log?colour=red", 400),
        ("GET", "/../../etc/passwd", 404),
    ],
)
def test_unknown_paths_wrong_methods_and_bad_filters_are_4xx_json(sim, method, path, expected):
    body = {} if method in ("POST", "PUT") else None
    status, answer = sim.call(method, path, body)
    assert status == expected
    assert answer["error"]


def test_a_body_past_the_size_limit_is_413(sim, instance):
    status, answer = sim.call(
        "POST", f"/tenants/{instance}/faults", raw=b'{"step": "' + b"x" * 70_000 + b'"}'
    )
    assert status == 413
    assert "bytes" in answer["error"]


def test_an_overlong_instance_id_is_400(sim):
    status, answer = sim.call("POST", f"/tenants/{'u' * 201}/steps/update", GOOD)
    assert status == 400
    assert "instance_id" in answer["error"]


def test_with_a_token_every_request_but_healthz_needs_it():
    with running_simulator("--token", "s3cret", "--step-seconds", "0", token="s3cret") as sim:
        assert sim.call("GET", "/healthz", token="")[0] == 200
        for method, path, body in [
            ("POST", "/tenants/uc-1/steps/pre_check", GOOD),
            ("GET", "/operations/op-x", None),
            ("GET", "/tenants/uc-1", None),
            ("POST", "/tenants/uc-1/faults", {"step": "update"}),
            ("DELETE", "/tenants/uc-1/faults", None),
            ("GET", "/tenants/uc-1/log", None),
            ("GET", "/log", None),
            ("PUT", "/settings", {"step_seconds": 1}),
            ("GET", "/nowhere", None),
        ]:
            for wrong in ("", "s3cre", "s3cret2"):
                status, answer = sim.call(method, path, body, token=wrong)
                assert status == 401, (method, path, wrong)
                assert "Bearer" in answer["error"]
        assert sim.call("GET", "/log")[1] == []  # nothing ran
        assert sim.call("GET", "/settings")[1]["step_seconds"] == 0
        assert sim.run_step("uc-1", "pre_check")["status"] == "succeeded"
        basic = {"Authorization": "Basic czNjcmV0"}
        assert sim.call("GET", "/log", token="", headers=basic)[0] == 401


def test_the_token_may_come_from_the_environment():
    env = {"UCFLEET_SIMULATOR_TOKEN": "from-env"}
    with running_simulator("--step-seconds", "0", env=env, token="from-env") as sim:
        assert sim.call("GET", "/log")[0] == 200
        assert sim.call("GET", "/log", token="other")[0] == 401
