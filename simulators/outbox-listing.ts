// The simulators' read-only outbox listing, GET /__sim/outbox on the control
// router (simulator-only: a real provider has no such path, and it is never
// faulted or counted): what the simulator received, newest first, at most
// `?limit=` items (default 50, at most 500), with the total it holds.
import { z } from "zod";

const limitSchema = z.coerce.number().int().min(1).max(500).catch(50);

export function newestFirst<T>(items: readonly T[], rawLimit: unknown): { total: number; items: T[] } {
  const limit = limitSchema.parse(rawLimit ?? 50);
  return { total: items.length, items: items.slice(-limit).reverse() };
}
