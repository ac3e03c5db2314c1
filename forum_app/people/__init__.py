"""People's rights: what Forum Desk holds about a person (export), forgetting them (erasure by
pseudonym) and forgetting the inactive (retention). Issue 22 point 5; docs/security.md."""
