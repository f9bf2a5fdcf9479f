/**
 * API keys: `MTS_API_KEYS` (role:key pairs, for development and CI) and keys made with
 * `mts keys create`, stored as a scrypt hash in Postgres. A verified key is remembered for a
 * minute (by the SHA-256 of the key), so the deliberately slow hash is paid once, not per request;
 * a revocation is announced to every API process (`KeyRevocations`), which forgets the key at once.
 */
import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { activeApiKeyIds, findApiKey, insertApiKey } from '../db/api-keys';
import type { Database } from '../db/client';
import { NOTIFY_CHANNELS } from '../db/notify';
import { API_ROLES, type ApiRole } from '../db/schema';
import { NotifyStream, type NotifyStreamOptions } from './notify-stream';

const scrypt = promisify(scryptCallback) as (secret: string, salt: string, length: number) => Promise<Buffer>;
const KEY_LENGTH = 32;
const CACHE_MS = 60_000;
const KEY_PATTERN = /^mts_([a-f0-9]{12})_([A-Za-z0-9_-]{32,})$/;

export type Role = ApiRole;
export const ROLES = API_ROLES;

export interface ApiKeyIdentity {
  /** What the audit log records: the stored key's name, or `env:<role>` for MTS_API_KEYS. */
  name: string;
  role: Role;
}

const digest = (token: string) => createHash('sha256').update(token).digest();

/** Parses MTS_API_KEYS: `role:key` pairs separated by commas. */
export function parseApiKeys(spec: string | undefined): Map<string, Role> {
  const keys = new Map<string, Role>();
  for (const entry of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = entry.indexOf(':');
    const role = entry.slice(0, at) as Role;
    const key = entry.slice(at + 1);
    if (at < 1 || !ROLES.includes(role) || key.length < 8) {
      throw new Error(`MTS_API_KEYS: an entry must be role:key with role one of ${ROLES.join(', ')} and a key of at least 8 characters`);
    }
    keys.set(key, role);
  }
  return keys;
}

/** What is wrong with a new key's name or role, if anything. */
export function keyRequestProblem(name: string, role: string): string | undefined {
  if (!/^[\w.-]{1,64}$/.test(name)) return `--name: "${name.slice(0, 64)}" must be 1–64 letters, digits, ".", "_" or "-"`;
  if (!(ROLES as readonly string[]).includes(role)) return `--role: must be one of ${ROLES.join(', ')}`;
  return undefined;
}

/** Makes a key: returns it (shown once) and stores only its salt and hash. */
export async function createApiKey(db: Database, name: string, role: Role): Promise<string> {
  const problem = keyRequestProblem(name, role);
  if (problem) throw new Error(problem);
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16).toString('hex');
  const hash = (await scrypt(secret, salt, KEY_LENGTH)).toString('hex');
  if (!(await insertApiKey(db, { id, name, role, salt, hash }))) throw new Error(`--name: a key named "${name}" exists already (names stay with revoked keys too)`);
  return `mts_${id}_${secret}`;
}

/** Finds who a bearer token belongs to, in time that does not depend on how close a wrong key was. */
export class KeyVerifier {
  /** SHA-256 of each MTS_API_KEYS key → role: compared digest to digest. */
  private readonly envKeys: Array<{ digest: Buffer; role: Role }>;
  private readonly cache = new Map<string, { identity: ApiKeyIdentity; until: number; id: string }>();
  /** Keys announced revoked: a verification that read its key before the revocation is not remembered. */
  private readonly revoked = new Set<string>();

  constructor(envKeys: Map<string, Role>, private readonly db?: Database, private readonly clock: () => number = Date.now) {
    this.envKeys = [...envKeys].map(([key, role]) => ({ digest: digest(key), role }));
  }

  async verify(token: string): Promise<ApiKeyIdentity | undefined> {
    const d = digest(token);
    // Every configured key is compared, matched or not, with a constant-time comparison.
    let envRole: Role | undefined;
    for (const k of this.envKeys) if (timingSafeEqual(k.digest, d)) envRole = k.role;
    if (envRole) return { name: `env:${envRole}`, role: envRole };
    const match = KEY_PATTERN.exec(token);
    if (!match || !this.db) return undefined;
    const cacheKey = d.toString('hex');
    const cached = this.cache.get(cacheKey);
    if (cached && cached.until > this.clock()) return cached.identity;
    const row = await findApiKey(this.db, match[1]);
    if (!row || row.revokedAt) return undefined;
    const hash = await scrypt(match[2], row.salt, KEY_LENGTH);
    if (!timingSafeEqual(hash, Buffer.from(row.hash, 'hex')) || this.revoked.has(row.id)) return undefined;
    const identity = { name: row.name, role: row.role };
    this.cache.set(cacheKey, { identity, until: this.clock() + CACHE_MS, id: row.id });
    return identity;
  }

  /** Forgets key `id`, revoked: announced by `revokeApiKey`. */
  forget(id: string): void {
    this.revoked.add(id);
    for (const [k, v] of this.cache) if (v.id === id) this.cache.delete(k);
  }

  /** Drops remembered keys that were revoked since: on a timer, for announcements missed while the API was not listening. */
  async refresh(): Promise<void> {
    if (!this.db || this.cache.size === 0) return;
    const active = new Set(await activeApiKeyIds(this.db));
    for (const [k, v] of this.cache) if (!active.has(v.id) || v.until <= this.clock()) this.cache.delete(k);
  }
}

/** The ids of keys as they are revoked (`revokeApiKey`), to every API process. */
export class KeyRevocations extends NotifyStream<string> {
  constructor(databaseUrl: string, onError?: NotifyStreamOptions['onError']) {
    super(databaseUrl, NOTIFY_CHANNELS.keyRevocations, { onError });
  }
}
