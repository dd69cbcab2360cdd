"""Audience: subscribers, consent, import/export and the transactional outbox."""
