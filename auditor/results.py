"""Compatibility: this module moved to ``auditor.contract.results`` (issue 16's layout).

Plugins written against ``from auditor.results import ...`` keep working; new code imports
``auditor.contract.results``.
"""

from auditor.contract.results import *  # noqa: F403
