"""The UC provisioning simulator (R27): the `http` driver's contract for simulated tenants.

A process of its own (`ucfleet simulator`); it imports nothing of ucfleet's domain and needs
no database or Django settings. The contract and the simulator's own endpoints are described
in docs/drivers.md.
"""
