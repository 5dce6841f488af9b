// The contract every CRM import source fulfils (Tave today; HoneyBook, 17hats
// and LightBlue later, each in app/connectors/<id>/import.server.ts): fetch one
// page by cursor. The engine (engine.server.ts) owns everything else: mapping,
// validation, upserts, counts, resuming.
import type { HubContext } from "../runtime/context.server";

/** Where the next page starts; stored as-is in sync_runs.cursor (JSON), so a resumed run continues there. */
export type ImportCursor = Record<string, unknown>;

export interface SourcePage {
  /** The provider's records, untouched: the mapping reads them as the provider sends them. */
  records: unknown[];
  /** Null on the last page. */
  next: ImportCursor | null;
  /** Total records at the source, when the provider says. */
  total: number | null;
}

export interface ImportSource {
  /** The connector id, also imported_records.source. */
  connector: string;
  /** The mapping that turns one record into a `wedsync-client`. */
  mappingSlug: string;
  /** The provider's id of a record, read before mapping so that even a rejected record is reported by id. */
  externalId(record: unknown): string | null;
  fetchPage(cursor: ImportCursor | null, opts: { pageSize: number; signal?: AbortSignal }): Promise<SourcePage>;
}

export interface ImportConnection {
  id: string;
  supplierId: string;
  connectorId: string;
  accountId: string | null;
  credentialsEnc: string | null;
  settings: Record<string, unknown>;
}

export type ImportSourceFactory = (ctx: HubContext, connection: ImportConnection) => Promise<ImportSource>;

/** The provider refused our credentials: retrying cannot help, the vendor must reconnect. */
export class SourceAuthError extends Error {
  constructor(
    message: string,
    /** The provider's HTTP status (401/403) when it answered one, so callers can tell "refresh" from "reconnect". */
    readonly status?: number,
  ) {
    super(message);
    this.name = "SourceAuthError";
  }
}

/** The provider kept answering 429 (or 5xx) beyond what one job attempt waits for. */
export class SourceUnavailableError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "SourceUnavailableError";
  }
}
