"""CASOS: requests, complaints, exceptions and security cases (VECTOR stage app; models arrive with its issue)."""
