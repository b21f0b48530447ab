"""Rollouts (R18–R22): every request that creates update tasks is one rollout, split into
waves, guarded by an error budget, steered by pause / resume / abort / retry-failed.

`docs/rollouts.md` describes the protocol.
"""
