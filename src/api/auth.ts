import type { RequestHandler } from 'express';
import { HttpError } from './errors';

export const ROLES = ['read', 'operator', 'trader', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Parses MTS_API_KEYS: `role:key` pairs separated by commas. */
export function parseApiKeys(spec: string | undefined): Map<string, Role> {
  const keys = new Map<string, Role>();
  for (const entry of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = entry.indexOf(':');
    const role = entry.slice(0, at) as Role;
    const key = entry.slice(at + 1);
    if (at < 1 || !ROLES.includes(role) || key.length < 8) {
      throw new Error(`MTS_API_KEYS: "${entry.slice(0, 20)}…" must be role:key with role one of ${ROLES.join(', ')} and a key of at least 8 characters`);
    }
    keys.set(key, role);
  }
  return keys;
}

declare module 'express-serve-static-core' {
  interface Request {
    role?: Role;
  }
}

/** Every /api route needs a key; `allow` narrows which roles may call a route (admin always may). */
export function authenticate(keys: Map<string, Role>): RequestHandler {
  return (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const role = match ? keys.get(match[1]) : undefined;
    if (!role) {
      throw new HttpError(401, 'unauthorized', match ? 'unknown API key' : 'missing Authorization: Bearer <key> header');
    }
    req.role = role;
    next();
  };
}

export function allow(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    if (req.role === 'admin' || (req.role && roles.includes(req.role))) return next();
    throw new HttpError(403, 'forbidden', `this route needs one of the roles ${[...roles, 'admin'].join(', ')}; the key has role ${req.role}`);
  };
}

/** Starting, pausing, retrying and cancelling work. */
export const operator = allow('operator');
