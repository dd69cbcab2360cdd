"""The ledger's journal of a copy-by-copy send (SMTP): which copy is in flight, which were
answered, written as the copies go so a killed process leaves only its copies in flight
`uncertain` (store/deliveries.py `recover`)."""

from __future__ import annotations

import threading

from newsletter.domain.clock import Clock
from newsletter.domain.errors import ClaimLost
from newsletter.store.deliveries import DeliveryRepository


class LedgerJournal:
    """One write per copy: the copy about to go is marked in flight together with the answers
    read since the previous write (the batch's own record, `finish`, follows at its end).
    A copy whose row another run took back (this run's claim outlived its lease) does not go:
    ClaimLost stops this run.

    A copy whose reply was read just before a kill, and not yet written, is left in flight:
    the window is the time between reading a reply and starting the next copy."""

    def __init__(self, deliveries: DeliveryRepository, clock: Clock, worker: str) -> None:
        self._deliveries = deliveries
        self._clock = clock
        self._worker = worker
        self._answered: dict[int, bool] = {}
        self._lock = threading.Lock()  # the provider's connections note copies in parallel

    def transmitting(self, delivery_id: int) -> None:
        with self._lock:
            answered, self._answered = self._answered, {}
        if not self._deliveries.transmitting(delivery_id, self._worker, answered, self._clock()):
            raise ClaimLost(
                f"delivery {delivery_id} was taken back by another run (this run's claim "
                "outlived its lease); this run stops, the other one sends it"
            )

    def answered(self, delivery_id: int, accepted: bool) -> None:
        with self._lock:
            self._answered[delivery_id] = accepted
