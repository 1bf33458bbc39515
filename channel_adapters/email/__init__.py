"""E-mail: MIME parsing, IMAP intake and SMTP sending. Knows nothing of Flask or helpdesk."""
