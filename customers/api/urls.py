def register(router) -> None:
    """Register the customers app's viewsets on the v1 router."""
