-- Up Migration

-- One customer's link between one ATS account and one vendor.
CREATE TABLE connections (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  ats         text NOT NULL,
  vendor      text NOT NULL,
  settings    jsonb NOT NULL,
  secrets     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Every webhook delivery we acknowledged, recorded before the 2xx; Lever's token makes redeliveries idempotent.
CREATE TABLE webhook_inbox (
  id            bigserial PRIMARY KEY,
  connection_id text NOT NULL REFERENCES connections (id),
  source        text NOT NULL,
  token         text NOT NULL,
  event         text NOT NULL,
  triggered_at  timestamptz NOT NULL,
  data          jsonb,
  outcome       text NOT NULL DEFAULT 'received',
  workflow_id   text,
  run_id        text,
  received_at   timestamptz NOT NULL DEFAULT now(),
  processed_at  timestamptz,
  UNIQUE (connection_id, source, token)
);
CREATE INDEX webhook_inbox_unprocessed ON webhook_inbox (received_at) WHERE processed_at IS NULL;

-- Every vendor callback we acknowledged; the vendor's event id makes redeliveries idempotent.
CREATE TABLE vendor_callbacks (
  id            bigserial PRIMARY KEY,
  connection_id text NOT NULL REFERENCES connections (id),
  vendor        text NOT NULL,
  event_id      text NOT NULL,
  event_type    text NOT NULL,
  object_id     text NOT NULL,
  outcome       text NOT NULL DEFAULT 'received',
  received_at   timestamptz NOT NULL DEFAULT now(),
  processed_at  timestamptz,
  UNIQUE (connection_id, vendor, event_id)
);

-- Which check ordered which vendor case, so a callback finds its workflow.
CREATE TABLE vendor_orders (
  connection_id   text NOT NULL REFERENCES connections (id),
  vendor          text NOT NULL,
  external_id     text NOT NULL,
  workflow_id     text NOT NULL,
  run_id          text NOT NULL,
  package_name    text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, vendor, external_id),
  UNIQUE (run_id)
);

-- Append-only history of each check's status changes, written by the workflow through an activity.
CREATE TABLE check_status_log (
  id             bigserial PRIMARY KEY,
  connection_id  text NOT NULL REFERENCES connections (id),
  opportunity_id text NOT NULL,
  workflow_id    text NOT NULL,
  run_id         text NOT NULL,
  seq            integer NOT NULL,
  status         text NOT NULL,
  detail         text,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (run_id, seq)
);
CREATE INDEX check_status_log_by_opportunity ON check_status_log (connection_id, opportunity_id, id);

CREATE FUNCTION check_status_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'check_status_log is append-only';
END;
$$;
CREATE TRIGGER check_status_log_no_change BEFORE UPDATE OR DELETE ON check_status_log
  FOR EACH ROW EXECUTE FUNCTION check_status_log_is_append_only();

-- Down Migration
DROP TABLE check_status_log;
DROP FUNCTION check_status_log_is_append_only();
DROP TABLE vendor_orders;
DROP TABLE vendor_callbacks;
DROP TABLE webhook_inbox;
DROP TABLE connections;
