"""The app's actions. Every function takes the database session and the acting user, checks
the user's role on the server side, writes the audit log, and raises an `AppError` for a
user's mistake. Pages only call these."""
