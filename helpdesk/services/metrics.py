"""Prometheus metrics, read from the database at scrape time.

Several gunicorn workers and the worker process share nothing in memory, so
counters kept in one process would each tell a part. The store already knows
every figure (messages taken in, the outbox, mailbox health, quarantine), so a
collector asks it on each scrape: every worker answers the same, complete numbers.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import ChannelState, Event, Message, OutboxItem, QuarantinedInput, Ticket


class StoreCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        ingested = CounterMetricFamily(
            "helpdesk_messages_ingested", "Inbound messages stored, by channel.", labels=["channel"]
        )
        for channel, count in db.session.execute(
            select(Message.channel, func.count())
            .where(Message.direction == "inbound")
            .group_by(Message.channel)
        ):
            ingested.add_metric([channel], count)
        yield ingested

        outbox = GaugeMetricFamily(
            "helpdesk_outbox_items", "Outbox rows by kind and status.", labels=["kind", "status"]
        )
        retrying = 0
        for kind, status, failing, count in db.session.execute(
            select(
                OutboxItem.kind,
                OutboxItem.status,
                OutboxItem.last_error.is_not(None),
                func.count(),
            ).group_by(OutboxItem.kind, OutboxItem.status, OutboxItem.last_error.is_not(None))
        ):
            outbox.add_metric([kind, status], count)
            retrying += count if status == "pending" and failing else 0
        yield outbox
        yield GaugeMetricFamily(
            "helpdesk_outbox_retrying",
            "Outbox rows waiting for another attempt after a failure.",
            value=retrying,
        )

        breaches = db.session.scalar(
            select(func.count()).select_from(Event).where(Event.kind == "sla.breached")
        )
        yield CounterMetricFamily(
            "helpdesk_sla_breaches", "SLA breaches recorded.", value=breaches or 0
        )

        healthy = GaugeMetricFamily(
            "helpdesk_channel_up",
            "1 when the connection's last attempt succeeded, 0 after an error.",
            labels=["kind", "name"],
        )
        last_success = GaugeMetricFamily(
            "helpdesk_channel_last_success_timestamp_seconds",
            "When the connection last worked (Unix time).",
            labels=["kind", "name"],
        )
        for state in db.session.scalars(select(ChannelState).where(ChannelState.enabled)):
            failing = state.last_error is not None
            healthy.add_metric([state.kind, state.name], 0 if failing else 1)
            if state.last_success_at is not None:
                last_success.add_metric([state.kind, state.name], state.last_success_at.timestamp())
        yield healthy
        yield last_success

        quarantined = GaugeMetricFamily(
            "helpdesk_quarantined_inputs", "Unresolved quarantined inputs.", labels=["channel"]
        )
        for channel, count in db.session.execute(
            select(QuarantinedInput.channel, func.count())
            .where(QuarantinedInput.resolved_at.is_(None))
            .group_by(QuarantinedInput.channel)
        ):
            quarantined.add_metric([channel], count)
        yield quarantined

        tickets = GaugeMetricFamily("helpdesk_tickets", "Tickets by status.", labels=["status"])
        for status, count in db.session.execute(
            select(Ticket.status, func.count()).group_by(Ticket.status)
        ):
            tickets.add_metric([status], count)
        yield tickets
