"""A faithful local emulator of the Jira Cloud and Data Center REST APIs.

``JiraSandbox(deployment="cloud"|"datacenter", seed=..., scale=...)`` serves generated data
over real loopback HTTP; see :mod:`connectors.jira.sandbox.server`.
"""

from connectors.jira.sandbox.server import FAULT_KINDS, JiraSandbox

__all__ = ["FAULT_KINDS", "JiraSandbox"]
