"""ServiceNow connector: Table API keyset pulls, deletions, indicator write-back."""
