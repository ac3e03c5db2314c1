"""The audit log's search page, its CSV download and the chain check (issue 22, point 3)."""
