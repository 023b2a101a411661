"""Demo and benchmark data for VECTOR CRM (``manage.py seed_demo``).

* ``vocab``        name lists and other vocabularies (Colombia and Ecuador), with weights.
* ``identifiers``  valid document numbers and mobiles, vectorised (NIT, RUC, cédulas).
* ``profiles``     the institutions: the two demo ones and the numbered bench tenants.
* ``generate``     vectorised generators: one dict of numpy columns per table.
* ``writers``      PostgreSQL COPY (with the RLS session settings) and ORM bulk_create.
* ``seed``         orchestration: institution set-up through the ORM, the customer book
                   through a writer, reset, ANALYZE.

Everything is deterministic for a given ``seed`` (dates are relative to the run's day).
Bulk loads write no audit entries, by design: the audit trail covers business actions,
and a load is audited as a whole by whoever runs it.
"""
