import { LRUCache } from 'lru-cache';
import type { ConnectionLookup, ConnectionRepository } from '../db/connections';
import type { Connection, ConnectionSummary } from '../ats/connection';

/** What the public routes read of a connection: the repository's reads, possibly from memory. */
export type ConnectionReader = Pick<ConnectionRepository, 'find' | 'findSummary'>;

export interface ConnectionCacheOptions {
  /** How long a read (found or not) is used before the database is asked again (ms). */
  ttlMs: number;
  /** Connections kept at most; as many unknown ids again, in their own cache. */
  max: number;
}

/**
 * The public routes' connections, kept briefly in memory so that a request does not cost a database read, a
 * decryption and schema parsing before its signature is checked: one read per connection and `ttlMs`, however many
 * requests arrive (concurrent ones share the read in flight). Unknown ids are kept too, in a cache of their own so
 * that a flood of made-up ids cannot push the real connections out. Every change made through the repository
 * (PATCH, pause, resume, delete, erasure) drops the entry at once; a change made by another API process is seen
 * here at most `ttlMs` later.
 */
export class ConnectionCache implements ConnectionReader {
  readonly #repository: ConnectionRepository;
  /** Reads found or in flight. */
  readonly #known: LRUCache<string, Promise<ConnectionLookup | undefined>>;
  readonly #unknown: LRUCache<string, true>;

  constructor(repository: ConnectionRepository, options: ConnectionCacheOptions) {
    this.#repository = repository;
    this.#known = new LRUCache({ max: options.max, ttl: options.ttlMs });
    this.#unknown = new LRUCache({ max: options.max, ttl: options.ttlMs });
    repository.onChange((id) => this.forget(id));
  }

  async find(id: string): Promise<Connection | undefined> {
    return (await this.#lookup(id))?.connection;
  }

  async findSummary(id: string): Promise<ConnectionSummary | undefined> {
    return (await this.#lookup(id))?.summary;
  }

  forget(id: string): void {
    this.#known.delete(id);
    this.#unknown.delete(id);
  }

  #lookup(id: string): Promise<ConnectionLookup | undefined> {
    if (this.#unknown.has(id)) return Promise.resolve(undefined);
    const cached = this.#known.get(id);
    if (cached !== undefined) return cached;
    const read = this.#repository.lookup(id);
    this.#known.set(id, read);
    // Settled reads are kept only while still the current entry: a change in between (forget) wins.
    read.then(
      (found) => {
        if (found === undefined && this.#known.get(id) === read) {
          this.#known.delete(id);
          this.#unknown.set(id, true);
        }
      },
      () => {
        if (this.#known.get(id) === read) this.#known.delete(id);
      },
    );
    return read;
  }
}
