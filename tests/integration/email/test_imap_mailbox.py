"""ImapMailbox against a real Dovecot: connecting, reading by UID, marking, waiting."""

from __future__ import annotations

import random
import threading
import time

import pytest

from channel_adapters.base import ConfigError
from channel_adapters.email.imap import (
    ImapAuthError,
    ImapError,
    ImapMailbox,
    ImapSettings,
    backoff_delays,
)
from tests.mail_servers import Dovecot, MailUser, free_port

SEEN = b"\\Seen"


def raw_mail(number: int) -> bytes:
    """A small message with CRLF line ends, as IMAP stores and returns it."""
    return (
        f"From: Kundin {number} <kundin{number}@example.de>\r\n"
        "To: service@shop.test\r\n"
        f"Subject: =?utf-8?q?Bestellung_{number}_=C3=BCberf=C3=A4llig?=\r\n"
        f"Message-ID: <order-{number}@example.de>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"Wo bleibt meine Bestellung Nr. {number}? Grüße\r\n"
    ).encode()


@pytest.mark.parametrize("security", ["ssl", "starttls", "none"])
def test_connects_with_each_security_mode(dovecot: Dovecot, mailbox_user: MailUser, security):
    with ImapMailbox(dovecot.settings(mailbox_user, security=security)) as box:
        assert box.uidvalidity > 0
        assert box.uids_after(0) == []


def test_wrong_password_is_an_auth_error_that_says_what_to_check(dovecot, mailbox_user):
    settings = dovecot.settings(mailbox_user, password="wrong")

    with pytest.raises(ImapAuthError) as caught, ImapMailbox(settings):
        pass

    message = str(caught.value)
    assert mailbox_user.name in message
    assert "check username and password" in message
    assert "b'" not in message  # the server's words, not imaplib's bytes repr


def test_closed_port_is_an_imap_error_that_names_the_address(dovecot, mailbox_user):
    port = free_port()
    settings = dovecot.settings(mailbox_user, port=port, timeout=5)

    with pytest.raises(ImapError) as caught, ImapMailbox(settings):
        pass

    assert not isinstance(caught.value, ImapAuthError)
    assert f"cannot reach 127.0.0.1:{port} (connection refused)" in str(caught.value)
    assert "check host, port and security" in str(caught.value)


def test_ssl_against_the_plain_port_points_at_the_security_setting(dovecot, mailbox_user):
    settings = dovecot.settings(mailbox_user, security="ssl", port=dovecot.imap_port)

    with pytest.raises(ImapError, match="is security 'ssl' right for port"), ImapMailbox(settings):
        pass


def test_untrusted_certificate_asks_for_ca_file(dovecot, mailbox_user):
    settings = dovecot.settings(mailbox_user, ca_file=None)  # the system CAs do not know ours

    with pytest.raises(ImapError, match="set ca_file"), ImapMailbox(settings):
        pass


def test_settings_refuse_an_unknown_security_mode():
    with pytest.raises(ConfigError, match="ssl, starttls, none"):
        ImapSettings("imap.example.com", 993, "u", "p", security="tls")


def test_settings_do_not_show_the_password():
    assert "hunter2" not in repr(ImapSettings("imap.example.com", 993, "u", "hunter2"))


def test_lists_fetches_exact_bytes_and_does_not_mark_seen(dovecot, mailbox_user):
    sent = {dovecot.append(mailbox_user, raw_mail(n)): raw_mail(n) for n in (1, 2, 3)}

    with ImapMailbox(dovecot.settings(mailbox_user)) as box:
        uids = box.uids_after(0)
        fetched = list(box.fetch(list(reversed(uids))))

    assert uids == sorted(sent)
    assert fetched == sorted(sent.items())
    assert all(SEEN not in flags for flags in dovecot.flags(mailbox_user).values())


def test_fetch_works_in_batches(dovecot, mailbox_user, monkeypatch):
    monkeypatch.setattr("channel_adapters.email.imap.FETCH_BATCH_SIZE", 2)
    uids = [dovecot.append(mailbox_user, raw_mail(n)) for n in range(5)]

    with ImapMailbox(dovecot.settings(mailbox_user)) as box:
        assert [uid for uid, _ in box.fetch(uids)] == uids


def test_uids_after_the_last_one_is_empty_despite_the_star_quirk(dovecot, mailbox_user):
    first, second = (dovecot.append(mailbox_user, raw_mail(n)) for n in (1, 2))

    with ImapMailbox(dovecot.settings(mailbox_user)) as box:
        assert box.uids_after(first) == [second]
        # "UID 3:*" matches UID 2 on the server; the mailbox must not report it.
        assert box.uids_after(second) == []
        assert box.uids_after(second + 10) == []


def test_mark_processed_sets_seen(dovecot, mailbox_user):
    first, second = (dovecot.append(mailbox_user, raw_mail(n)) for n in (1, 2))

    with ImapMailbox(dovecot.settings(mailbox_user)) as box:
        box.mark_processed(first)

    flags = dovecot.flags(mailbox_user)
    assert SEEN in flags[first]
    assert SEEN not in flags[second]


def test_processed_folder_receives_the_message_and_is_created(dovecot, mailbox_user):
    uid = dovecot.append(mailbox_user, raw_mail(1))
    keep = dovecot.append(mailbox_user, raw_mail(2))
    settings = dovecot.settings(mailbox_user, processed_folder="Erledigt")

    with ImapMailbox(settings) as box:
        box.mark_processed(uid)

    assert "Erledigt" in dovecot.folders(mailbox_user)
    assert list(dovecot.flags(mailbox_user)) == [keep]
    assert len(dovecot.flags(mailbox_user, "Erledigt")) == 1


def test_processed_folder_without_move_or_uidplus_falls_back_to_copy(dovecot):
    old_server = dovecot.add_user(capabilities="IMAP4rev1")
    uid = dovecot.append(old_server, raw_mail(1))
    keep = dovecot.append(old_server, raw_mail(2))
    settings = dovecot.settings(old_server, processed_folder="Archiv")

    with ImapMailbox(settings) as box:
        assert not box.supports_idle()
        box.mark_processed(uid)

    assert list(dovecot.flags(old_server)) == [keep]
    assert len(dovecot.flags(old_server, "Archiv")) == 1


def test_a_recreated_folder_has_a_new_uidvalidity(dovecot, mailbox_user):
    dovecot.append(mailbox_user, raw_mail(1), folder="Support")
    settings = dovecot.settings(mailbox_user, folder="Support")
    with ImapMailbox(settings) as box:
        before = box.uidvalidity

    dovecot.recreate_folder(mailbox_user, "Support")
    dovecot.append(mailbox_user, raw_mail(2), folder="Support")

    with ImapMailbox(settings) as box:
        assert box.uidvalidity != before
        assert [raw for _, raw in box.fetch(box.uids_after(0))] == [raw_mail(2)]


def test_a_renumbered_inbox_has_a_new_uidvalidity(dovecot, mailbox_user):
    dovecot.append(mailbox_user, raw_mail(1))
    with ImapMailbox(dovecot.settings(mailbox_user)) as box:
        before = box.uidvalidity

    dovecot.renumber(mailbox_user)

    with ImapMailbox(dovecot.settings(mailbox_user)) as box:
        assert box.uidvalidity != before
        assert len(box.uids_after(0)) == 1


def test_wait_for_news_returns_when_another_connection_delivers(dovecot, mailbox_user):
    def deliver_soon() -> None:
        time.sleep(0.3)  # most likely while IDLE runs; before it works as well
        dovecot.append(mailbox_user, raw_mail(1))

    with ImapMailbox(dovecot.settings(mailbox_user)) as box:
        assert box.supports_idle()
        delivery = threading.Thread(target=deliver_soon)
        delivery.start()
        try:
            assert box.wait_for_news(timeout=30) is True
        finally:
            delivery.join()
        assert len(box.uids_after(0)) == 1  # the connection is usable after IDLE


def test_wait_for_news_reports_mail_that_came_before_it_was_called(dovecot, mailbox_user):
    with ImapMailbox(dovecot.settings(mailbox_user)) as box:
        assert box.uids_after(0) == []
        dovecot.append(mailbox_user, raw_mail(1))  # between our poll and our wait

        assert box.wait_for_news(timeout=30) is True
        assert len(box.uids_after(0)) == 1


def test_wait_for_news_times_out_quietly(dovecot, mailbox_user):
    with ImapMailbox(dovecot.settings(mailbox_user)) as box:
        assert box.wait_for_news(timeout=1) is False
        assert box.uids_after(0) == []


def test_wait_for_news_without_idle_sleeps_and_says_poll(dovecot):
    old_server = dovecot.add_user(capabilities="IMAP4rev1")

    with ImapMailbox(dovecot.settings(old_server)) as box:
        assert box.wait_for_news(timeout=0.05) is True


def test_server_hanging_up_during_idle_is_an_imap_error(dovecot, mailbox_user):
    def kick_soon() -> None:
        time.sleep(0.3)
        dovecot.kick(mailbox_user)

    with ImapMailbox(dovecot.settings(mailbox_user)) as box:
        kick = threading.Thread(target=kick_soon)
        kick.start()
        try:
            with pytest.raises(ImapError, match="broke while waiting for new mail"):
                box.wait_for_news(timeout=30)
        finally:
            kick.join()
    # leaving the block on the dead connection raised nothing


def test_exit_on_a_dead_connection_does_not_raise(dovecot, mailbox_user):
    with ImapMailbox(dovecot.settings(mailbox_user)) as box:
        dovecot.kick(mailbox_user)

    with pytest.raises(RuntimeError, match="not connected"):
        box.uids_after(0)


def test_errors_after_connecting_are_imap_errors(dovecot, mailbox_user):
    with ImapMailbox(dovecot.settings(mailbox_user)) as box:
        box._imap.shutdown()  # our end of the connection dies, deterministically
        with pytest.raises(ImapError, match="broke while searching for new mail.*reconnect"):
            box.uids_after(0)


def test_missing_folder_is_an_imap_error_naming_it(dovecot, mailbox_user):
    settings = dovecot.settings(mailbox_user, folder="Gibt-es-nicht")

    with pytest.raises(ImapError, match="'Gibt-es-nicht'"), ImapMailbox(settings):
        pass


def test_backoff_delays_grow_to_the_cap_with_jitter():
    delays = backoff_delays(base=1, cap=8, rng=random.Random(7))
    first = [next(delays) for _ in range(50)]

    assert 0 <= first[0] <= 1
    assert 0 <= first[1] <= 2
    assert all(0 <= d <= 8 for d in first)
    assert max(first[10:]) > 4  # reaches well past base once capped at 8


def test_backoff_delays_repeat_with_the_same_seed():
    def take(seed: int) -> list[float]:
        delays = backoff_delays(rng=random.Random(seed))
        return [next(delays) for _ in range(10)]

    assert take(42) == take(42)
    assert take(42) != take(43)
