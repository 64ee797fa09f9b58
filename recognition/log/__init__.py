"""The transparency log of decisions and registry changes (DESIGN §6)."""
