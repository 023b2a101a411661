"""VECTOR CRM platform: settings, tenancy, roles, audit, jobs, API base."""

from vector_crm.celery import app as celery_app

__all__ = ("celery_app",)
