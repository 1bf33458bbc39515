"""Ingest throughput with the default rules on versus off (issue #10: within 20%).

The workload is bench/ingest.py's (a seeded mix of channels, languages and replies),
classified by a fixed stand-in so both runs see the same intents: 10% a payment
reminder about a return, 15% "where is my order", 5% damaged goods, the rest none
of these. "on" installs the shipped default rules and puts four agents into the
returns and care teams, so matching messages really act (team, priority, tags, hold
check, draft or automatic answer attempt, round-robin assignment); "off" has no
rules. Each message is ingested and committed on its own; runs alternate off/on
`--rounds` times on a fresh database each and the best round of each is reported.

    .venv/bin/python bench/rules.py --messages 3000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections.abc import Sequence

from flask import Flask

from channel_adapters.base import InboundMessage
from classifiers.base import Classification
from common import (
    Figures,
    add_database_options,
    backend_label,
    figures,
    fresh_app,
    print_summary,
    result_json,
    stored_and_tickets,
)
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from ingest import DEFAULT_PG_URL, SEED, build_workload

#: (share in %, intents) of the stand-in classifier, decided by the message text.
MIX: tuple[tuple[int, tuple[str, ...]], ...] = (
    (10, ("payment_reminder", "return_status")),
    (15, ("order_status",)),
    (5, ("damaged_or_wrong",)),
)


#: CPU milliseconds per message by run label: this process's work (all of SQLite's, none of
#: PostgreSQL's server), steadier than wall time when the machine is shared.
CPU_MS: dict[str, float] = {}


class MixClassifier:
    """Says the same intents for the same text, in the shares of `MIX`."""

    def classify(self, text: str, *, subject: str = "") -> Classification:
        bucket = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 100
        for share, intents in MIX:
            if bucket < share:
                return Classification(intents, dict.fromkeys(intents, 0.9), None, (), "bench")
            bucket -= share
        return Classification((), {}, None, (), "bench")


def _with_rules() -> None:
    from helpdesk.models import Team, User
    from helpdesk.services.rules.defaults import install_default_rules

    install_default_rules()
    for team in db.session.scalars(db.select(Team)):
        for n in range(4):
            user = User(email=f"{team.name.lower()}{n}@bench.example", name=f"Agent {n}",
                        role="agent", password_hash="-")  # fmt: skip
            team.members.append(user)
    db.session.commit()


def run(app: Flask, label: str, messages: Sequence[InboundMessage], rules: bool) -> Figures:
    classifier = MixClassifier()
    with app.app_context():
        if rules:
            _with_rules()
        latencies: list[float] = []
        clock = time.perf_counter
        cpu_start = time.process_time()
        start = clock()
        for inbound in messages:
            began = clock()
            ingest(inbound, classifier=classifier)
            db.session.commit()
            latencies.append(clock() - began)
        seconds = clock() - start
        CPU_MS[label] = (time.process_time() - cpu_start) * 1000 / len(messages)
        stored, tickets = stored_and_tickets()
    if stored != len(messages):
        raise RuntimeError(f"{label}: {stored} messages stored, expected {len(messages)}")
    return figures(label, latencies, seconds, tickets)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    add_database_options(parser, DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    workload = build_workload(args.messages, random.Random(SEED))
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results: dict[str, Figures | None] = {}
    for backend in backends:
        base = backend_label(backend, args.sqlite_synchronous)
        best: dict[str, Figures | None] = {"off": None, "on": None}
        for _round in range(args.rounds):
            for mode in ("off", "on"):
                with fresh_app(backend, args.sqlite_synchronous, args.pg_url) as app:
                    if app is None:
                        continue
                    found = run(app, f"{base}, rules {mode}", workload.messages, mode == "on")
                if best[mode] is None or found.msgs_per_s > best[mode].msgs_per_s:
                    best[mode] = found
        for mode, found in best.items():
            results[f"{backend}_rules_{mode}"] = found
            if found:
                print_summary(found, workload.senders, workload.threads)
                print(f"  CPU per message {CPU_MS[found.label]:>10.2f} ms (this process)")
        if best["off"] and best["on"]:
            ratio = best["on"].msgs_per_s / best["off"].msgs_per_s
            print(f"  {backend}: rules on at {ratio:.0%} of rules off (target >= 80%)")
    head = {"bench": "rules", "messages": args.messages, "rounds": args.rounds}
    line = json.loads(result_json(head, results, args.sqlite_synchronous or "FULL"))
    for key, found in results.items():
        line[f"{key}_cpu_ms"] = round(CPU_MS[found.label], 3) if found else None
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
