"""VALOR: segmentation, value and potential scoring (VECTOR stage app; models arrive with its issue)."""
