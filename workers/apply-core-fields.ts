import type { Task } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { taskPayloadSchemas } from "../app/jobs/catalog";
import { updateCoreFields } from "../app/core-fields/write.server";
import { readCoreFields } from "../app/core-fields/read.server";
import { diffFields } from "../app/core-fields/schema";
import { systemPrincipal } from "../app/core-fields/principal";
import { ConflictError } from "../app/errors";

/**
 * Idempotent: re-applying the same values is a no-op write (no version, no
 * event), and a retry after a success that moved the version on is
 * recognised by the values already being in place.
 */
export const applyCoreFields =
  (ctx: HubContext): Task =>
  async (payload) => {
    const job = taskPayloadSchemas.apply_core_fields.parse(payload);
    const principal = systemPrincipal(job.actor, job.writer);
    try {
      await updateCoreFields(
        ctx.db,
        principal,
        { coupleId: job.coupleId, patch: job.patch, expectedVersion: job.expectedVersion },
        { source: job.source },
      );
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      const current = await readCoreFields(ctx.db, principal, job.coupleId);
      if (Object.keys(diffFields(current.fields, job.patch)).length > 0) throw err;
    }
  };
