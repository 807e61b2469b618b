-- Up Migration

-- The API and the worker connect as a member of bgc_runtime, which holds only the rights they use: no DDL, not the
-- owner of anything, so it cannot alter a table, disable or drop a trigger, and it may only append to the two
-- append-only logs. The owner of the schema (the migration role, MIGRATION_DATABASE_URL) keeps everything else.
-- Operators create the roles (README, "Security"); where the migration role may create roles (a local superuser)
-- this creates the group role itself, so tests and the demo need no setup.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bgc_runtime') THEN
    CREATE ROLE bgc_runtime NOLOGIN;
  END IF;
EXCEPTION
  -- Another database of the same server migrating at the same moment created it.
  WHEN duplicate_object OR unique_violation THEN NULL;
  WHEN insufficient_privilege THEN
    RAISE EXCEPTION 'role bgc_runtime does not exist and % may not create it', current_user
      USING HINT = 'Create it first (CREATE ROLE bgc_runtime NOLOGIN) and make the login role of the API and '
        'the worker a member of it; see README, Security.';
END;
$$;

-- Nobody but the owner creates objects here (already the default from PostgreSQL 15 on).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO bgc_runtime;

-- Rows the service changes after writing them (connection lifecycle, inbox and callback outcomes).
GRANT SELECT, INSERT, UPDATE ON connections, webhook_inbox, vendor_callbacks TO bgc_runtime;
-- Written once, then only read; the two logs are append-only (their triggers also stop the owner).
GRANT SELECT, INSERT ON vendor_orders, ashby_assessments, check_status_log, connection_events TO bgc_runtime;
GRANT USAGE ON SEQUENCE webhook_inbox_id_seq, vendor_callbacks_id_seq, check_status_log_id_seq,
  connection_events_id_seq TO bgc_runtime;
-- The API and the worker refuse to start on a schema older than their code (src/db/runtime-database.ts).
GRANT SELECT ON pgmigrations TO bgc_runtime;

-- Down Migration
REVOKE ALL ON pgmigrations FROM bgc_runtime;
REVOKE ALL ON SEQUENCE webhook_inbox_id_seq, vendor_callbacks_id_seq, check_status_log_id_seq,
  connection_events_id_seq FROM bgc_runtime;
REVOKE ALL ON connections, webhook_inbox, vendor_callbacks, vendor_orders, ashby_assessments, check_status_log,
  connection_events FROM bgc_runtime;
REVOKE ALL ON SCHEMA public FROM bgc_runtime;
