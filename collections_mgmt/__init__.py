"""Collections and normalisation (cobranza) (VECTOR stage app; models arrive with its issue)."""
