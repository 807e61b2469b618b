-- Up Migration

-- Connection secrets are encrypted at rest (AES-256-GCM, src/db/secret-box.ts): `secrets_sealed` holds the
-- envelope {"v":1,"alg":"A256GCM","kid":…,"iv":…,"tag":…,"ct":…} of {"ats":…,"vendor":…}, bound to the row's id.
-- The key is not in the database, so SQL cannot encrypt: rows written before this migration keep their plain
-- `secrets` (still readable) until `npm run rotate-secrets` seals them. Each row has exactly one of the two.
ALTER TABLE connections ALTER COLUMN secrets DROP NOT NULL;
ALTER TABLE connections ADD COLUMN secrets_sealed jsonb;
ALTER TABLE connections ADD CONSTRAINT connections_secrets_one_form
  CHECK (num_nonnulls(secrets, secrets_sealed) = 1);
ALTER TABLE connections ADD CONSTRAINT connections_secrets_sealed_envelope
  CHECK (
    secrets_sealed IS NULL
    OR (secrets_sealed->>'v' = '1' AND secrets_sealed->>'alg' = 'A256GCM'
        AND secrets_sealed ?& ARRAY['kid', 'iv', 'tag', 'ct'])
  );

-- Down Migration
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM connections WHERE secrets_sealed IS NOT NULL) THEN
    RAISE EXCEPTION 'connections hold encrypted secrets, which SQL cannot decrypt: this migration cannot be undone';
  END IF;
END;
$$;
ALTER TABLE connections DROP CONSTRAINT connections_secrets_sealed_envelope;
ALTER TABLE connections DROP CONSTRAINT connections_secrets_one_form;
ALTER TABLE connections DROP COLUMN secrets_sealed;
ALTER TABLE connections ALTER COLUMN secrets SET NOT NULL;
