"""The domain model, one module per aggregate."""

from helpdesk.models.agents import LANGUAGES, ROLES, Team, User, team_members
from helpdesk.models.audit import Event
from helpdesk.models.channels import ChannelState, QuarantinedInput
from helpdesk.models.chat import CHAT_STATES, AgentAvailability, ChatSession, FaqEntry
from helpdesk.models.commerce import (
    RESOLUTIONS,
    RETURN_REASONS,
    RETURN_STATUSES,
    Invoice,
    Order,
    OrderItem,
    Return,
    ReturnItem,
    Shipment,
    Shop,
    Stock,
)
from helpdesk.models.customer_merges import CustomerMerge
from helpdesk.models.customers import Customer, CustomerIdentity
from helpdesk.models.integrations import ApiToken, InboundDelivery, WebhookEndpoint
from helpdesk.models.kpis import (
    BusinessHours,
    SlaPolicy,
    SpikeSettings,
    TicketMetrics,
    TicketMetricsDue,
    VolumeSpike,
)
from helpdesk.models.outbox import OUTBOX_STATUSES, OutboxItem
from helpdesk.models.presence import PRESENCE_STATES, Presence
from helpdesk.models.responses import CannedResponse
from helpdesk.models.rules import AssignmentCursor, Draft, Rule
from helpdesk.models.surveys import CsatSurvey
from helpdesk.models.tickets import (
    AUTHOR_KINDS,
    DIRECTIONS,
    PRIORITIES,
    TICKET_STATUSES,
    UNSOLVED_STATUSES,
    Attachment,
    IntentTag,
    Message,
    RawSource,
    Ticket,
    TicketTag,
)
from helpdesk.models.wall import WALL_KINDS, WALL_STATUSES, WallEntry, WallTicket, WallVote

__all__ = [
    "CHAT_STATES",
    "AgentAvailability",
    "ChatSession",
    "FaqEntry",
    "RESOLUTIONS",
    "RETURN_REASONS",
    "RETURN_STATUSES",
    "ApiToken",
    "AssignmentCursor",
    "Draft",
    "Rule",
    "BusinessHours",
    "SlaPolicy",
    "TicketMetrics",
    "TicketMetricsDue",
    "SpikeSettings",
    "VolumeSpike",
    "CsatSurvey",
    "WALL_KINDS",
    "WALL_STATUSES",
    "WallEntry",
    "WallTicket",
    "WallVote",
    "CannedResponse",
    "InboundDelivery",
    "Invoice",
    "Order",
    "OrderItem",
    "Return",
    "ReturnItem",
    "Shipment",
    "Shop",
    "Stock",
    "WebhookEndpoint",
    "AUTHOR_KINDS",
    "DIRECTIONS",
    "LANGUAGES",
    "OUTBOX_STATUSES",
    "PRIORITIES",
    "ROLES",
    "TICKET_STATUSES",
    "UNSOLVED_STATUSES",
    "Attachment",
    "ChannelState",
    "Customer",
    "CustomerIdentity",
    "CustomerMerge",
    "Event",
    "IntentTag",
    "Message",
    "OutboxItem",
    "PRESENCE_STATES",
    "Presence",
    "QuarantinedInput",
    "RawSource",
    "Team",
    "Ticket",
    "TicketTag",
    "User",
    "team_members",
]
