"""The home page: what needs this person now, by role."""
