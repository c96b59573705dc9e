"""The plugin contract: what a check is (``Check``, ``Param``, ``Threshold``), what it
returns (``Findings``, ``Metric``, ``Evidence``, ``CheckResult``), what it reads (the
``AuditContext`` and the model adapters) and how the inputs become a context. It imports
only the utilities below it.
"""
