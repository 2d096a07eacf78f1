"""One function per workflow step, grouped by stage: read inputs, call the library, write outputs atomically."""
