"""Aftercare check-ins: durable, discreet, survivor-controlled follow-ups.

``rules`` holds the pure decisions (next due time, quiet hours, parsing),
``models`` the tables, ``service`` the database work a turn needs, and
``dispatcher`` the loop that hands due check-ins to the outbox.
"""
