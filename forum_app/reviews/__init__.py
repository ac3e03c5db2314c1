"""Review comments: programme staff comment on a grant, forum or meeting; its organisers answer.

The thread stays on its object and is shown on the forum and meeting pages (grant threads on the
dashboard filtered to the grant). Permissions: ``permissions.review_…``.
"""
