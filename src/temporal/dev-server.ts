import path from 'node:path';
import { SEARCH_ATTRIBUTE_KEYS } from './search-attributes';

/** The pinned Temporal CLI, installed by scripts/install-temporal.sh into a git-ignored folder. */
export const TEMPORAL_CLI_PATH =
  process.env.TEMPORAL_CLI_PATH ?? path.resolve(__dirname, '..', '..', '.tools', 'bin', 'temporal');

/** SQLite pragmas for the dev server: WAL journal and relaxed fsync keep it fast while staying durable. */
export const SQLITE_PRAGMA_ARGS = [
  '--sqlite-pragma',
  'journal_mode=wal',
  '--sqlite-pragma',
  'synchronous=normal',
];

/** `--search-attribute Name=Type` flags registering the project's custom search attributes. */
export function searchAttributeArgs(): string[] {
  return SEARCH_ATTRIBUTE_KEYS.flatMap((key) => ['--search-attribute', `${key.name}=${key.type}`]);
}
