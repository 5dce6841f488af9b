// Every task's payload schema, shared by producers (enqueue) and workers (parse).
import { z } from "zod";

export const taskPayloadSchemas = {
  diagnostics_ping: z.object({ key: z.string().min(1).max(200) }),
} as const;

export type TaskName = keyof typeof taskPayloadSchemas;
export type TaskPayloads = { [K in TaskName]: z.infer<(typeof taskPayloadSchemas)[K]> };
