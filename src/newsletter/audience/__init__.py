"""Audience: subscribers, consent, import/export and the transactional outbox.

addresses      what an address and a display name must be (pure)
dependencies   what the subscriber use cases take: repository, signer, clock, sign-up rules
subscribers    sign-up with double opt-in, editors' additions, consent records
links          the confirm and unsubscribe links of the emails
import_export  CSV import with its consent record, export, one reader's personal data
erasure        erasure on request, purge of sign-ups never confirmed
csvfile        reading and writing CSV files safely
outbox         the confirmation and welcome emails, sent by a background worker
"""
