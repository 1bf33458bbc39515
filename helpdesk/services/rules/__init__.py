"""Rules: act on tickets by themselves (route, prioritise, prepare or send answers).

`after_ingest` is the one call ingest makes; `install_listeners` makes the rules run on
the ticket events the rest of the application records (updated, solved, SLA, returns).
"""

from helpdesk.services.rules.engine import (
    RunReport,
    after_ingest,
    dry_run,
    enabled_rules,
    install_listeners,
    run_rules,
)
from helpdesk.services.rules.schema import EVENTS, RuleInvalid, validate_rule

__all__ = [
    "EVENTS",
    "RuleInvalid",
    "RunReport",
    "after_ingest",
    "dry_run",
    "enabled_rules",
    "install_listeners",
    "run_rules",
    "validate_rule",
]
