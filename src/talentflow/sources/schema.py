"""DDL of the tables the sources stage writes (see docs/tables.md)."""

from __future__ import annotations

RAW_PAPERS = """
CREATE TABLE IF NOT EXISTS raw_papers (
  rec_key VARCHAR, source VARCHAR, venue VARCHAR, year INTEGER, record_id VARCHAR,
  openreview_id VARCHAR, title VARCHAR, norm_title VARCHAR, abstract VARCHAR, keywords VARCHAR,
  track VARCHAR, status VARCHAR, primary_area VARCHAR, doi VARCHAR, openalex_id VARCHAR, venue_name VARCHAR,
  n_authors INTEGER, source_file VARCHAR, record_index BIGINT
)"""

RAW_AUTHORSHIPS = """
CREATE TABLE IF NOT EXISTS raw_authorships (
  rec_key VARCHAR, author_position INTEGER, author_name VARCHAR, source_person_id VARCHAR,
  orcid VARCHAR, dblp VARCHAR, scholar VARCHAR, linkedin VARCHAR, current_profile VARCHAR,
  raw_affiliation VARCHAR,
  affiliations VARCHAR[],
  email_domain VARCHAR, career_position VARCHAR, aligned BOOLEAN, misaligned_fields VARCHAR[],
  label_institution VARCHAR, label_country VARCHAR, source_institution VARCHAR,
  source_country VARCHAR, source_ror VARCHAR, source VARCHAR, source_file VARCHAR
)"""

INGEST_LOG = """
CREATE TABLE IF NOT EXISTS ingest_log (
  file VARCHAR, source VARCHAR, size BIGINT, sha256 VARCHAR, records_read BIGINT,
  records_kept BIGINT, records_quarantined BIGINT, ingested_at TIMESTAMP, status VARCHAR,
  message VARCHAR
)"""

QUARANTINE = """
CREATE TABLE IF NOT EXISTS quarantine (
  file VARCHAR, record_index BIGINT, reason VARCHAR, raw_record VARCHAR
)"""

ALL = (RAW_PAPERS, RAW_AUTHORSHIPS, INGEST_LOG, QUARANTINE)
