"""Where `ucfleet run` puts the simulator, and when the workers' http driver points at it."""

from __future__ import annotations

import pytest

from ucfleet.simulator.onebox import plan


def test_without_a_driver_the_simulator_runs_next_to_the_portal_and_drives_the_workers():
    simulator = plan({}, portal_port=8000)
    assert simulator is not None
    assert (simulator.url, simulator.host, simulator.port) == (
        "http://127.0.0.1:8001/",
        "127.0.0.1",
        8001,
    )
    assert simulator.worker_env == {
        "UCFLEET_DRIVER": "http",
        "UCFLEET_DRIVER_HTTP_URL": "http://127.0.0.1:8001/",
        "UCFLEET_DRIVER_HTTP_WAIT": "30",  # the simulator holds answers until a step ends
    }
    chosen = plan({"UCFLEET_DRIVER_HTTP_WAIT": "0"}, portal_port=8000)
    assert chosen is not None and "UCFLEET_DRIVER_HTTP_WAIT" not in chosen.worker_env
    assert simulator.argv("python")[-4:] == ["--host", "127.0.0.1", "--port", "8001"]


def test_the_simulator_url_chooses_where_it_listens():
    simulator = plan({"UCFLEET_SIMULATOR_URL": "http://[::1]:9100/"}, portal_port=8000)
    assert simulator is not None
    assert (simulator.host, simulator.port) == ("::1", 9100)
    assert simulator.worker_env["UCFLEET_DRIVER_HTTP_URL"] == "http://[::1]:9100/"


def test_its_token_goes_to_the_http_driver_unless_that_has_one():
    simulator = plan({"UCFLEET_SIMULATOR_TOKEN": "t0k"}, portal_port=8000)
    assert simulator is not None
    assert simulator.worker_env["UCFLEET_DRIVER_HTTP_TOKEN"] == "t0k"
    own = plan(
        {"UCFLEET_SIMULATOR_TOKEN": "t0k", "UCFLEET_DRIVER_HTTP_TOKEN": "mine"}, portal_port=8000
    )
    assert own is not None
    assert "UCFLEET_DRIVER_HTTP_TOKEN" not in own.worker_env


def test_a_configured_driver_replaces_the_simulator():
    assert plan({"UCFLEET_DRIVER": "command"}, portal_port=8000) is None
    # ... unless the simulator is asked for: then it runs, and the workers keep their driver.
    asked = plan(
        {"UCFLEET_DRIVER": "simulated", "UCFLEET_SIMULATOR_URL": "http://127.0.0.1:9000"},
        portal_port=8000,
    )
    assert asked is not None
    assert (asked.port, asked.worker_env) == (9000, {})


@pytest.mark.parametrize(
    "url",
    [
        "127.0.0.1:8001",
        "https://127.0.0.1:8001/",
        "http://127.0.0.1/",
        "http://127.0.0.1:0/",
        "http://127.0.0.1:99999/",
        "http://127.0.0.1:abc/",
        "http://127.0.0.1:8001/sim/",
        "http://:8001/",
    ],
)
def test_an_unusable_simulator_url_is_refused_with_the_variable_named(url):
    with pytest.raises(ValueError, match="UCFLEET_SIMULATOR_URL"):
        plan({"UCFLEET_SIMULATOR_URL": url}, portal_port=8000)


def test_the_portal_on_the_last_port_leaves_none_for_the_simulator():
    with pytest.raises(ValueError, match="UCFLEET_SIMULATOR_URL"):
        plan({}, portal_port=65535)
