"""Partner witnesses (DESIGN §11). Placeholder until the registry's side of
witnessing lands: no witness is in service."""


def active_vkeys() -> list[str]:
    """The vkeys (cosignature/v1) of the witnesses in service."""
    return []
