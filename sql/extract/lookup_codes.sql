-- lookup_codes: the council's local picklists (code_type, code, description), all rows.
-- The mapping tables in data/sample/mappings/ turn these codes into CLD values.
SELECT l.code_type, l.code, l.description, l.active
FROM lookup_codes l
