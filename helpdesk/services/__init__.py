"""Services: the application's operations. They never commit; their caller owns the transaction."""
