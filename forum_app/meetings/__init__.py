"""Meetings: planning, invitees and RSVP, attendance, minutes, the calendar month."""
