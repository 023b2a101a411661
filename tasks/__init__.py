"""TAREAS: service protocols and work items (VECTOR stage app; models arrive with its issue)."""
