"""mk2ds.schemas: the JSON Schemas that pin every document mk2ds reads or writes (package data: *.schema.json)."""
