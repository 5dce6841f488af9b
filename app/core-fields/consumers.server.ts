// What a change event causes. Each consumer (calendar updates, outbound
// webhooks, notifications) registers the jobs it needs here; they are queued
// in the event's own transaction, so a committed change always has its work.
// The consumers arrive with their issues; until then an event causes no jobs.
import type { Tx } from "../db.server";
import type { HubEvent } from "./events";

export type EventConsumer = (tx: Tx, event: HubEvent) => Promise<void>;

const consumers: EventConsumer[] = [];

export function registerEventConsumer(consumer: EventConsumer): void {
  consumers.push(consumer);
}

export async function enqueueEventConsumers(tx: Tx, event: HubEvent): Promise<void> {
  for (const consumer of consumers) await consumer(tx, event);
}
