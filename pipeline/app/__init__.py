"""The application layer: jobs (clean, fit, try-on, batch), the CLI verbs and the worker; the add-on calls these."""
