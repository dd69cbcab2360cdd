"""Runtime: configuration, wiring, scheduler, leader lock, jobs, doctor and logging."""
