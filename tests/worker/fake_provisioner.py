#!/usr/bin/env python3
"""A provisioning script for the command driver's tests: a real executable, run per step.

Called as `fake_provisioner.py STEP` (docs/drivers.md): it reads the step request from stdin,
checks that the environment says the same, records the call, prints what it does on stderr
and its result as JSON on stdout, and behaves as the FAKE_* variables of the test ask:
FAKE_FAIL_STEP (exit 3), FAKE_SLEEP_STEP + FAKE_SLEEP_SECONDS, FAKE_BLOCK_STEP (writes
`started-<task>` into FAKE_SYNC_DIR and waits there for a `release` file),
FAKE_ACTIVE_CALLS (the pre-check's active calls).
"""

import json
import os
import sys
import time
from pathlib import Path

step = sys.argv[1]
payload = json.load(sys.stdin)
consistent = (
    os.environ["UCFLEET_STEP"] == step
    and str(payload["task_id"]) == os.environ["UCFLEET_TASK_ID"]
    and str(payload["attempt_id"]) == os.environ["UCFLEET_ATTEMPT_ID"]
    and payload["target_version"] == os.environ["UCFLEET_TARGET_VERSION"]
    and payload["tenant"]["instance_id"] == os.environ["UCFLEET_INSTANCE_ID"]
)
record_dir = os.environ.get("FAKE_RECORD_DIR")
if record_dir:
    call = {
        "step": step,
        "task_id": payload["task_id"],
        "tenant": payload["tenant"]["name"],
        "backup_id": payload["backup_id"],
        "redeploy": os.environ["UCFLEET_REDEPLOY"],
        "consistent": consistent,
        "sees_ucfleet_secrets": "UCFLEET_SECRET_KEY" in os.environ,
    }
    name = f"{payload['task_id']}-{step}-{time.monotonic_ns()}.json"
    Path(record_dir, name).write_text(json.dumps(call))

print(f"{step}: {payload['tenant']['name']} -> {payload['target_version']}", file=sys.stderr)

if step == os.environ.get("FAKE_BLOCK_STEP"):
    sync = Path(os.environ["FAKE_SYNC_DIR"])
    (sync / f"started-{payload['task_id']}").touch()
    deadline = time.monotonic() + 30
    while not (sync / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.01)

if step == os.environ.get("FAKE_SLEEP_STEP"):
    time.sleep(float(os.environ.get("FAKE_SLEEP_SECONDS", "10")))

if step == os.environ.get("FAKE_FAIL_STEP"):
    print("disk full on /var/lib/uc", file=sys.stderr)
    sys.exit(3)

results = {
    "pre_check": {
        "reachable": True,
        "version": payload["from_version"],
        "version_supported": True,
        "active_calls": int(os.environ.get("FAKE_ACTIVE_CALLS", "0")),
    },
    "backup": {"backup_id": f"bk-{payload['task_id']}-{payload['attempt_id']}"},
    "update": {"version": payload["target_version"]},
    "redeploy": {"version": payload["target_version"]},
    "health_check": {"service_up": True, "sip_registered": True, "test_call": True},
    "restore": {"version": payload["from_version"]},
}
print(json.dumps(results[step]))
