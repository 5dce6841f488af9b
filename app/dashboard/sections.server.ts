// The console sections whose features arrive with later issues. They read
// their real tables, so the page is honest: empty until something is there.
import { desc } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { messages, syncRuns, webhookEndpoints } from "../../db/schema";

export type SectionName = "sync-runs" | "webhooks" | "messages";

export interface SectionRows {
  columns: string[];
  rows: string[][];
}

const fmt = (d: Date | null) => (d ? d.toISOString().replace("T", " ").slice(0, 16) : "–");

export async function sectionRows(db: DbOrTx, section: SectionName): Promise<SectionRows> {
  switch (section) {
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
