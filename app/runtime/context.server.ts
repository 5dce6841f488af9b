// What every route, API handler and worker task receives: one database, one
// logger, one vault, created once per process by startHub().
import type { Cookie } from "@remix-run/node";
import type { HubConfig, Role } from "../config.server";
import type { Database, Db } from "../db.server";
import type { Logger } from "../log.server";
import type { Vault } from "../crypto/secrets.server";

export interface HubContext {
  config: HubConfig;
  role: Role;
  /** host:pid, to tell processes apart in job records and logs. */
  instanceId: string;
  db: Db;
  database: Database;
  databaseUrl: string;
  log: Logger;
  vault: Vault;
  cookies: { session: Cookie; csrf: Cookie };
  status(): { workersRunning: boolean; startedAt: Date };
  /** HUB_PUBLIC_URL, or the URL this process listens on (http://localhost:PORT before it listens). */
  publicUrl(): string;
}

declare module "@remix-run/node" {
  interface AppLoadContext {
    hub: HubContext;
    clientIp: string;
    requestId: string;
  }
}

// Single Fetch type inference (future.v3_singleFetch in remix.config.js).
declare module "@remix-run/server-runtime" {
  interface Future {
    v3_singleFetch: true;
  }
}
