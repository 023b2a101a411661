"""EVENTOS: campaigns and demand generators (VECTOR stage app; models arrive with its issue)."""
