"""Compatibility: this module moved to ``auditor.contract.check`` (issue 16's layout).

Plugins written against ``from auditor.check import ...`` keep working; new code imports
``auditor.contract.check``.
"""

from auditor.contract.check import *  # noqa: F403
