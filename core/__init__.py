"""What every app of the registry shares and that knows no app: saving a row
with its history, locking and status transitions, the management command
base, instants and JSON member checks. Nothing here imports an app."""
