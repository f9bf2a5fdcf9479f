import type { RequestHandler } from 'express';
import type { ApiKeyIdentity, KeyVerifier, Role } from '../services/api-keys';
import { HttpError } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    /** The caller: its key's name and role (set by `authenticate`). */
    identity?: ApiKeyIdentity;
  }
}

/** The bearer token of a request, if it sends one. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
}

/** Every /api route needs a key; `allow` narrows which roles may call a route (admin always may). */
export function authenticate(verifier: KeyVerifier): RequestHandler {
  return async (req, _res, next) => {
    const token = bearerToken(req.get('authorization'));
    const identity = token ? await verifier.verify(token) : undefined;
    if (!identity) {
      throw new HttpError(401, 'unauthorized', token ? 'unknown API key' : 'missing Authorization: Bearer <key> header');
    }
    req.identity = identity;
    next();
  };
}

export function allow(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    const role = req.identity?.role;
    if (role === 'admin' || (role && roles.includes(role))) return next();
    // Which role the key has is not said: a caller learns what the route needs, nothing about the key.
    throw new HttpError(403, 'forbidden', `this route needs one of the roles ${[...roles, 'admin'].join(', ')}`);
  };
}

/** Starting, pausing, retrying and cancelling work. */
export const operator = allow('operator');
