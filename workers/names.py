"""The maintenance and order tasks' names, written once (each entity names its own event
task: ``tds.<entity>.apply_event``)."""

SYNC = "tds.maintenance.sync"  # (entity, mode): open or join the pass, run it
RUN_OPEN_SYNC = "tds.maintenance.run_pass"  # (ledger id): an open pass, from its checkpoint
SWEEP_INBOX = "tds.maintenance.sweep_inbox"
DISPATCH_DUE = "tds.maintenance.dispatch_due"
CLEANUP = "tds.maintenance.cleanup"
TICK = "tds.maintenance.tick"  # open the passes the schedule's plan says are due
CREATE_ORDER = "tds.orders.create"  # (ledger id): create a consumer order in Zoho, once
