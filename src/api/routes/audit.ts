import { Router } from 'express';
import { z } from 'zod';
import { queryAudit } from '../../db/api-keys';
import type { ApiContext } from '../context';
import { parseInput } from '../errors';

export const auditQuery = z.object({ limit: z.coerce.number().int().min(1).max(5000).default(100) });

/** The audit log of mutating calls, newest first (admin only). */
export function auditRouter(ctx: ApiContext): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const q = parseInput(auditQuery, req.query, 'query');
    const rows = await queryAudit(ctx.db, q.limit);
    res.json({
      entries: rows.map((r) => ({
        id: r.id, at: r.at.toISOString(), keyName: r.keyName, role: r.role, method: r.method, route: r.route, bodyDigest: r.bodyDigest, status: r.status,
      })),
    });
  });
  return router;
}
