-- providers: all providers with their CQC location id and name.
SELECT p.provider_id, p.provider_name, p.cqc_location_id, p.cqc_location_name
FROM providers p
