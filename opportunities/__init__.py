"""OPORTUNIDADES: pipeline and agreements (VECTOR stage app; models arrive with its issue)."""
