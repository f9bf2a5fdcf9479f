import { ScheduleNotFoundError } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import { listSchedules } from '../../services/schedules';
import { operator } from '../auth';
import type { ApiContext } from '../context';
import { HttpError, parseInput } from '../errors';

const params = z.object({ id: z.string().regex(/^mts-[\w-]+$/, 'must be an MTS schedule id such as mts-tier-hourly') });
export const noteBody = z.object({ note: z.string().max(500).optional() }).strict();

export function schedulesRouter(ctx: ApiContext): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    res.json({ schedules: await listSchedules(ctx.temporal) });
  });

  const act = (name: 'pause' | 'unpause' | 'trigger') =>
    router.post(`/:id/${name}`, operator, async (req, res) => {
      const { id } = parseInput(params, req.params, 'params');
      const { note } = parseInput(noteBody, req.body, 'body');
      const handle = ctx.temporal.schedule.getHandle(id);
      try {
        if (name === 'trigger') await handle.trigger();
        else await handle[name](note ?? `${name}d through the MTS API`);
      } catch (err) {
        if (err instanceof ScheduleNotFoundError) throw new HttpError(404, 'not_found', `no schedule "${id}"`);
        throw err;
      }
      res.status(name === 'trigger' ? 202 : 200).json({ id, action: name });
    });
  act('pause');
  act('unpause');
  act('trigger');
  return router;
}
