import { baseConfigSchema, loadConfig, migrationConfigSchema } from '../config';
import { migrate } from './migrate';

/** `npm run migrate`: brings the schema up to date as the migration role (the API and the worker never do). */
async function main(): Promise<void> {
  const config = loadConfig(migrationConfigSchema);
  const databaseUrl =
    config.MIGRATION_DATABASE_URL ??
    config.DATABASE_URL ??
    baseConfigSchema.shape.DATABASE_URL.parse(undefined);
  await migrate(databaseUrl, (msg) => console.log(msg));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
