"""The app's actions. Every service takes the database session and the acting user and is
declared with `access.service(Action...)`, which refuses a missing or deactivated user and a
role too low before the body runs (see `permissions.ROLE_TABLE`) and audits every refusal.
Services write the audit log, raise an `AppError` for a user's mistake, and return copies
(`visibility`) of what they show. Pages only call these; `access`, `locking` and `visibility`
are helpers of the services, not services."""
