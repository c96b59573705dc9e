"""The engine: the registry, the policy, planning and running the checks, the judge
(``thresholds``), the audit-wide multiple-testing correction and the gate. It never
imports the renderers or a check module (checks arrive through the registry's entry points).
"""
