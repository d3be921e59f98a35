"""Everything that speaks HTTP to a platform: one package per platform, with its sandbox."""
