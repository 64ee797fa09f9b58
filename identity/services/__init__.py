"""The writes of the identity app, one module per entity (DESIGN §3): every
entry point (admin, management commands, API) calls these, so no rule is
written twice. Each service validates, locks the row it changes, saves with
`full_clean()` inside a transaction and records the acting user in history
(core.changes). Refusals raise `django.core.exceptions.ValidationError` with
a message meant for the operator. Look-ups are in identity/selectors.py.
"""
