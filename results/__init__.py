"""RESULTADOS: KPI snapshots and dashboards (VECTOR stage app; models arrive with its issue)."""
