"""Mail that comes back: calendar answers (iTIP REPLY), replies written by hand, and bounces.

Invitations name a per-meeting address Forum Desk owns (``addresses.meeting_reply_address``)
as their ORGANIZER and Reply-To, so the Yes / Maybe / No buttons of Outlook, Gmail, Apple
Calendar and Thunderbird answer to Forum Desk. What arrives there is read from an IMAP
mailbox (``fetch``, ``flask forum mail fetch``) or from a mail server's pipe
(``flask forum mail receive``), kept raw for a while (``models.ReceivedMail``) and acted on
by ``services.receive``. Nothing received is ever executed or shown as HTML: pages show the
plain text it was reduced to, escaped like any user input.
"""
