import { migrate } from './migrate';

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bgc';
migrate(databaseUrl, (msg) => console.log(msg)).catch((err) => {
  console.error(err);
  process.exit(1);
});
