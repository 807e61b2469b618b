-- Up Migration

-- A check is about an ATS object: a Lever opportunity or an Ashby assessment.
ALTER TABLE check_status_log RENAME COLUMN opportunity_id TO subject_id;
ALTER INDEX check_status_log_by_opportunity RENAME TO check_status_log_by_subject;

-- Assessments Ashby started with us (we are its assessment partner). The candidate details are what the
-- vendor order needs; Ashby sends them only once, in assessment.start.
CREATE TABLE ashby_assessments (
  id                  text PRIMARY KEY,
  connection_id       text NOT NULL REFERENCES connections (id),
  candidate_ashby_id  text NOT NULL,
  assessment_type_id  text NOT NULL,
  candidate           jsonb NOT NULL,
  job                 jsonb,
  workflow_id         text NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ashby_assessments_by_candidate ON ashby_assessments (connection_id, candidate_ashby_id, assessment_type_id);

-- Down Migration
DROP TABLE ashby_assessments;
ALTER INDEX check_status_log_by_subject RENAME TO check_status_log_by_opportunity;
ALTER TABLE check_status_log RENAME COLUMN subject_id TO opportunity_id;
