"""The people who work the helpdesk: users with a role, and the teams they belong to."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from helpdesk.extensions import db
from helpdesk.models.types import JSONType, UTCDateTime, one_of, utcnow

#: agent works tickets; lead also sees KPIs and manages the team; social works the
#: social channels and escalates to care; admin configures everything.
ROLES: tuple[str, ...] = ("agent", "lead", "social", "admin")
LANGUAGES: tuple[str, ...] = ("de", "en")

team_members = Table(
    "team_members",
    db.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(secondary=team_members, back_populates="teams")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(one_of("role", ROLES), name="role"),
        CheckConstraint(one_of("language", LANGUAGES), name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="agent")
    language: Mapped[str] = mapped_column(String(8), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Assignment (services/assignment.py): an away agent gets no new tickets; capacities
    # (None: the HELPDESK_ASSIGN_MAX_* defaults) and the channels they may work (None: all).
    away: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    max_open_tickets: Mapped[int | None] = mapped_column(Integer)
    max_chats: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[list | None] = mapped_column(JSONType)

    teams: Mapped[list[Team]] = relationship(secondary=team_members, back_populates="members")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, *roles: str) -> bool:
        """Admins may do everything; everyone else only what their role names."""
        return self.role == "admin" or self.role in roles
