"""Services: the operations flows, the CLI and the scheduler share (one place for each rule)."""
