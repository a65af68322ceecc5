"""Outgoing mail: rendering, background delivery with retries, SMTP or a local outbox."""
