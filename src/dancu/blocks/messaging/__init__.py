"""Messages to people: SMS and e-mail behind adapters (a console/file driver for development,
the operator's gateway in production)."""
