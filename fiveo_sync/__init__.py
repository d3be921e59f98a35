"""fiveo-sync: ServiceNow and Jira evidence turned into 5 O governance indicators."""

__version__ = "0.1.0"
