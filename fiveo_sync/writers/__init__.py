"""Writers: indicator results turned into plans of write operations."""
