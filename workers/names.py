"""The maintenance tasks' names, written once (each entity names its own event task:
``tds.<entity>.apply_event``)."""

SYNC_INCREMENTAL = "tds.maintenance.sync_incremental"
SYNC_FULL = "tds.maintenance.sync_full"
RECONCILE = "tds.maintenance.reconcile"
SWEEP_INBOX = "tds.maintenance.sweep_inbox"
DISPATCH_DUE = "tds.maintenance.dispatch_due"
CLEANUP = "tds.maintenance.cleanup"
