#!/usr/bin/env python3
"""A provisioning script for the command driver's tests: a real executable, run per step.

It reads the task from stdin, checks that the environment says the same, records the call,
prints what it does, and behaves as the FAKE_* variables of the test ask:
FAKE_FAIL_STEP (exit 3), FAKE_SLEEP_STEP + FAKE_SLEEP_SECONDS, FAKE_BLOCK_STEP (writes
`started-<task>` into FAKE_SYNC_DIR and waits there for a `release` file).
"""

import json
import os
import sys
import time
from pathlib import Path

payload = json.load(sys.stdin)
step = os.environ["UCFLEET_STEP"]
task = payload["task"]
consistent = (
    payload["step"] == step
    and str(task["task_id"]) == os.environ["UCFLEET_TASK_ID"]
    and task["target_version"] == os.environ["UCFLEET_TARGET_VERSION"]
    and task["tenant"]["instance_id"] == os.environ["UCFLEET_INSTANCE_ID"]
)
record_dir = os.environ.get("FAKE_RECORD_DIR")
if record_dir:
    call = {
        "step": step,
        "task_id": task["task_id"],
        "tenant": task["tenant"]["name"],
        "redeploy": os.environ["UCFLEET_REDEPLOY"],
        "consistent": consistent,
        "sees_ucfleet_secrets": "UCFLEET_SECRET_KEY" in os.environ,
    }
    name = f"{task['task_id']}-{step}-{time.monotonic_ns()}.json"
    Path(record_dir, name).write_text(json.dumps(call))

print(f"{step}: {task['tenant']['name']} -> {task['target_version']}")

if step == os.environ.get("FAKE_BLOCK_STEP"):
    sync = Path(os.environ["FAKE_SYNC_DIR"])
    (sync / f"started-{task['task_id']}").touch()
    deadline = time.monotonic() + 30
    while not (sync / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.01)

if step == os.environ.get("FAKE_SLEEP_STEP"):
    time.sleep(float(os.environ.get("FAKE_SLEEP_SECONDS", "10")))

if step == os.environ.get("FAKE_FAIL_STEP"):
    print("disk full on /var/lib/uc", file=sys.stderr)
    sys.exit(3)
