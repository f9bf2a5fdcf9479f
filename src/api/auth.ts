import type { RequestHandler } from 'express';
import type { ApiKeyIdentity, KeyVerifier, Role } from '../services/api-keys';
import { HttpError } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    /** The caller: its key's name and role (set by `identify` for a known key). */
    identity?: ApiKeyIdentity;
  }
}

/** The bearer token of a request, if it sends one. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
}

/** Finds who the bearer token belongs to, once per request (the limiters and the checks below read it). */
export function identify(verifier: KeyVerifier): RequestHandler {
  return async (req, _res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (token) req.identity = await verifier.verify(token);
    next();
  };
}

/** Every /api route needs a known key; `allow` narrows which roles may call a route (admin always may). */
export const requireKey: RequestHandler = (req, _res, next) => {
  if (!req.identity) {
    throw new HttpError(401, 'unauthorized', bearerToken(req.get('authorization')) ? 'unknown API key' : 'missing Authorization: Bearer <key> header');
  }
  next();
};

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
