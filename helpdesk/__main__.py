"""`python -m helpdesk` is the `helpdesk` command."""

from helpdesk.cli import main

main()
