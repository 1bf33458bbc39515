"""Tests of the e-mail adapter's pure parts: MIME parsing, quoting, HTML to text."""
