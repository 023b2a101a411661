"""File import (CSV / XLSX) for any registered resource: upload, column mapping, dry run
with a row-level error report, then the import as a background Job.

Registering a resource (from your ``AppConfig.ready``)::

    from vector_crm.imports.registry import Batch, Importable, Preset, Sink, Target, register_importable

    def build(frame, ctx):            # typed rows: one column per target, canonical strings
        rows = list(frame.index)      # file row numbers (the header is row 1)
        return [Batch("complaints", rows, records_from_frame(frame, ["customer_external_id", "summary"]))]

    register_importable(Importable(
        key="complaints",
        label=_("Quejas"),
        targets=(
            Target("customer_external_id", _("Cliente (id core)"), required=True, aliases=("cliente",)),
            Target("opened_on", _("Fecha"), kind="date"),
            Target("summary", _("Resumen")),
        ),
        sinks=(Sink("complaints", validate=my_validate, upsert=my_upsert, capabilities=("cases.create",)),),
        build=build,
        presets={"cfpb": Preset("cfpb", _("CFPB"), mapping={"summary": "Issue"}, constants={...})},
    ))

* ``Target(name, label, kind, required, aliases)``: ``kind`` is ``text``, ``decimal``,
  ``integer`` or ``date``. Values are read in the tenant's locale (``1.234.567,89`` in
  es-CO, plain ``1234.5`` too; dates ISO or dd/mm/yyyy) and handed over canonical
  (``1234567.89``, ``2024-03-31``); blank cells are absent keys.
* ``build(frame, ctx) -> [Batch]``: one row may feed several sinks (a customer, its
  account and its payments); ``Batch.fields`` maps record fields back to targets so a
  rejection names the user's column.
* ``Sink(name, validate, upsert, capabilities)``: ``validate(raw, region=)`` returns
  ``(valid (index, data) pairs, rejected errors)``, ``upsert(...)`` writes a batch and
  returns created / updated / unchanged / rejected (``customers.bulk`` has this shape).
  Sinks are written in the order given, each chunk inside one savepoint.
* ``Preset(key, label, mapping, constants, derive, derived, prepare)``: a named mapping for
  a known layout; ``derive(frame, ctx)`` computes targets no column holds.
* ``Importable(..., unique_keys=(("external_id",),))``: a key repeated within the file is
  a row error on the later row (column, value, "Repetido en el archivo: la fila N ...")
  whichever chunks the two rows fall in, instead of a silent update of the first.
* ``Importable(..., chunk_writer=ChunkWriter(applies, write))``: an optional column-wise
  fast path replacing ``build`` and the sinks for a whole chunk when ``applies()``
  (customers on PostgreSQL: ``customers.import_fast``). Its ``ChunkOutcome.pending``
  database work runs on a background thread while the next chunk is parsed; a dry run
  through it checks read-only instead of writing and rolling back.

Guarantees: a file with any error writes nothing unless the user asks for only the valid
rows (then a row is written entirely or not at all); the whole import runs in one
transaction; the error report keeps the first ``MAX_STORED_ISSUES`` issues in the
database and every issue in a downloadable CSV beside the upload.
"""
