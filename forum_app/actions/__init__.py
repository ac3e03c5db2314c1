"""Agreed actions: raising them, their lifecycle and their append-only history."""
