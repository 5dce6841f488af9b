// The console sections whose features arrive with later issues. They read
// their real tables, so the page is honest: empty until something is there.
import { desc } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { connections, mappings, messages, syncRuns, webhookEndpoints, connectors } from "../../db/schema";

export type SectionName = "connectors" | "connections" | "mappings" | "sync-runs" | "webhooks" | "messages";

export interface SectionRows {
  columns: string[];
  rows: string[][];
}

const fmt = (d: Date | null) => (d ? d.toISOString().replace("T", " ").slice(0, 16) : "–");

export async function sectionRows(db: DbOrTx, section: SectionName): Promise<SectionRows> {
  switch (section) {
    case "connectors": {
      const rows = await db.select().from(connectors).orderBy(connectors.id).limit(100);
      return {
        columns: ["Connector", "Enabled", "Updated"],
        rows: rows.map((r) => [r.id, r.enabled ? "yes" : "no", fmt(r.updatedAt)]),
      };
    }
    case "connections": {
      const rows = await db.select().from(connections).orderBy(desc(connections.createdAt)).limit(100);
      return {
        columns: ["Connector", "Account", "Status", "Created"],
        rows: rows.map((r) => [r.connectorId, r.accountLabel ?? "–", r.status, fmt(r.createdAt)]),
      };
    }
    case "mappings": {
      const rows = await db.select().from(mappings).orderBy(mappings.slug).limit(100);
      return { columns: ["Mapping", "Name", "Created"], rows: rows.map((r) => [r.slug, r.name, fmt(r.createdAt)]) };
    }
    case "sync-runs": {
      const rows = await db.select().from(syncRuns).orderBy(desc(syncRuns.createdAt)).limit(100);
      return {
        columns: ["Kind", "Status", "Started", "Finished"],
        rows: rows.map((r) => [r.kind, r.status, fmt(r.startedAt), fmt(r.finishedAt)]),
      };
    }
    case "webhooks": {
      const rows = await db.select().from(webhookEndpoints).orderBy(desc(webhookEndpoints.createdAt)).limit(100);
      return {
        columns: ["Endpoint", "Direction", "Status", "Created"],
        rows: rows.map((r) => [r.name, r.direction === "in" ? "inbound" : "outbound", r.status, fmt(r.createdAt)]),
      };
    }
    case "messages": {
      const rows = await db.select().from(messages).orderBy(desc(messages.createdAt)).limit(100);
      return {
        columns: ["Channel", "Recipient", "Template", "Status", "Created"],
        rows: rows.map((r) => [r.channel, r.recipient, r.template, r.status, fmt(r.createdAt)]),
      };
    }
  }
}
