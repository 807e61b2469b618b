-- The database roles of the stack (README, "Security"), run by psql as the PostgreSQL superuser:
--   bgc_migrator  owns the database bgc and its schema; only `npm run migrate` (the compose service `migrate`) uses it
--   bgc_runtime   no login; holds what the API and the worker may do (granted by the migrations)
--   bgc_app       the API's and the worker's login, a member of bgc_runtime
--   temporal      owns Temporal's databases temporal and temporal_visibility, and nothing else
-- docker-compose.yml runs it on the first start of an empty volume (/docker-entrypoint-initdb.d). It is idempotent:
-- on a volume made before these roles existed, run it once by hand (README, "Security") and it creates what is
-- missing, sets the passwords again and hands the existing tables to their owners. Passwords come from the
-- environment of the postgresql container.
\set ON_ERROR_STOP on
\getenv migrator_password BGC_DB_MIGRATOR_PASSWORD
\getenv app_password BGC_DB_APP_PASSWORD
\getenv temporal_password TEMPORAL_DB_PASSWORD
\if :{?migrator_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'BGC_DB_MIGRATOR_PASSWORD is not set'; END $$;
\endif
\if :{?app_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'BGC_DB_APP_PASSWORD is not set'; END $$;
\endif
\if :{?temporal_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'TEMPORAL_DB_PASSWORD is not set'; END $$;
\endif

SELECT 'CREATE ROLE bgc_migrator' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bgc_migrator') \gexec
SELECT 'CREATE ROLE bgc_runtime' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bgc_runtime') \gexec
SELECT 'CREATE ROLE bgc_app' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bgc_app') \gexec
SELECT 'CREATE ROLE temporal' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'temporal') \gexec
ALTER ROLE bgc_migrator LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'migrator_password';
ALTER ROLE bgc_runtime NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
ALTER ROLE bgc_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'app_password';
ALTER ROLE temporal LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'temporal_password';
GRANT bgc_runtime TO bgc_app;

SELECT 'CREATE DATABASE bgc' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'bgc') \gexec
SELECT 'CREATE DATABASE temporal' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal') \gexec
SELECT 'CREATE DATABASE temporal_visibility'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal_visibility') \gexec
ALTER DATABASE bgc OWNER TO bgc_migrator;
ALTER DATABASE temporal OWNER TO temporal;
ALTER DATABASE temporal_visibility OWNER TO temporal;
-- Each role reaches its own databases only.
REVOKE ALL ON DATABASE bgc, temporal, temporal_visibility FROM PUBLIC;
GRANT CONNECT ON DATABASE bgc TO bgc_runtime;

-- Each database's tables (with their indexes and sequences) and functions go to its owner: nothing to do on a new
-- volume, the upgrade of one where a single superuser created them. Only the owner creates objects (REVOKE: already
-- the default from PostgreSQL 15 on).
\connect bgc
SELECT format('ALTER TABLE public.%I OWNER TO bgc_migrator', relname) FROM pg_class
 WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v') \gexec
SELECT format('ALTER ROUTINE %s OWNER TO bgc_migrator', oid::regprocedure) FROM pg_proc
 WHERE pronamespace = 'public'::regnamespace \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

\connect temporal
SELECT format('ALTER TABLE public.%I OWNER TO temporal', relname) FROM pg_class
 WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v') \gexec
SELECT format('ALTER ROUTINE %s OWNER TO temporal', oid::regprocedure) FROM pg_proc
 WHERE pronamespace = 'public'::regnamespace \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

\connect temporal_visibility
SELECT format('ALTER TABLE public.%I OWNER TO temporal', relname) FROM pg_class
 WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v') \gexec
SELECT format('ALTER ROUTINE %s OWNER TO temporal', oid::regprocedure) FROM pg_proc
 WHERE pronamespace = 'public'::regnamespace \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
