#!/usr/bin/env python3
"""A reference `command` driver for ucfleet (docs/drivers.md): adapt it to your platform.

ucfleet runs it once per step as

    uc-command-driver.py STEP        (pre_check, backup, update, redeploy, health_check, restore)

with the step request as JSON on stdin (task_id, attempt_id, from_version, target_version,
backup_id, tenant {id, name, domain, instance_id, language, partner, scale_unit}). It prints
one JSON object on stdout — the step's result, or {"error": "..."} — and exits 0 on success,
1 on failure. Anything on stderr is kept in the step's output on the task page.

This reference keeps each tenant's state in a JSON file under UC_DRIVER_STATE_DIR (default
./uc-driver-state), so it runs as it is: a tenant appears at the version ucfleet sends.
Replace the bodies of the step functions with calls to your provisioning system; keep the
result shapes. To try ucfleet's waiting and restore paths, put "active_calls": 3 or
"fail": ["update"] into a tenant's state file.

    UCFLEET_DRIVER=command UCFLEET_DRIVER_COMMAND="python3 examples/uc-command-driver.py"
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATE_DIR = Path(os.environ.get("UC_DRIVER_STATE_DIR", "uc-driver-state"))


class StepFailed(Exception):
    pass


def pre_check(tenant: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    # Ask your platform: is the tenant reachable, which version runs, how many live calls?
    return {
        "reachable": True,
        "version": tenant["version"],
        "version_supported": True,
        "active_calls": int(tenant.get("active_calls", 0)),
    }


def backup(tenant: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    # Take a backup you can restore the tenant from; answer its id.
    backup_id = f"bk-{uuid.uuid4().hex[:12]}"
    tenant.setdefault("backups", {})[backup_id] = {
        "version": tenant["version"],
        "created": datetime.now(UTC).isoformat(),
    }
    return {"backup_id": backup_id}


def update(tenant: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    # Install target_version on the tenant.
    tenant["version"] = request["target_version"]
    tenant["healthy"] = True
    return {"version": tenant["version"]}


def redeploy(tenant: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    # Redeploy the tenant on the version it runs.
    tenant["healthy"] = True
    return {"version": tenant["version"]}


def health_check(tenant: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    # Service up, SIP registration, a test call: as your platform reports them.
    healthy = bool(tenant.get("healthy", True))
    checks = {"service_up": healthy, "sip_registered": healthy, "test_call": healthy}
    if not all(checks.values()):
        failed = ", ".join(name for name, ok in checks.items() if not ok)
        raise StepFailed(json.dumps({"error": f"health check failed: {failed}", **checks}))
    return checks


def restore(tenant: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    # Restore the backup ucfleet names (the id your backup step answered).
    saved = tenant.get("backups", {}).get(request.get("backup_id") or "")
    if saved is None:
        raise StepFailed(f"no backup {request.get('backup_id')!r} for this tenant")
    tenant["version"] = saved["version"]
    tenant["healthy"] = True
    return {"version": tenant["version"]}


STEPS = {f.__name__: f for f in (pre_check, backup, update, redeploy, health_check, restore)}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in STEPS:
        print(json.dumps({"error": f"usage: {argv[0]} {'|'.join(STEPS)}"}))
        return 2
    step = argv[1]
    request = json.load(sys.stdin)
    instance_id = request["tenant"]["instance_id"]
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    path = STATE_DIR / f"{instance_id.replace('/', '_')}.json"
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one step at a time per tenant
        tenant = json.loads(path.read_text()) if path.exists() else {}
        tenant.setdefault("version", request["from_version"])
        print(f"{step} on {instance_id} ({tenant['version']})", file=sys.stderr)
        try:
            if step in tenant.get("fail", []):  # a scripted fault, for trying ucfleet out
                tenant["fail"].remove(step)
                if step in ("update", "redeploy"):
                    tenant["healthy"] = False
                raise StepFailed(f"{step} failed (scripted fault)")
            result = STEPS[step](tenant, request)
        except StepFailed as failure:
            message = str(failure)
            print(message if message.startswith("{") else json.dumps({"error": message}))
            return 1
        finally:
            path.write_text(json.dumps(tenant, indent=2))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
