"""The pure mapping engine: canonical records and specs in, indicator results out."""
