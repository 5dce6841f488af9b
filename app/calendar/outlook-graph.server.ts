// The Microsoft Graph client for one Outlook calendar connection, shared by
// push, pull and subscriptions: the connection's decrypted access token, the
// API root seam (tests, connector settings, the sandbox simulator, Graph) and
// SDK retries off (the sync job owns retries and backoff).
import { eq } from "drizzle-orm";
import { Client, RetryHandlerOptions, type GraphRequest } from "@microsoft/microsoft-graph-client";
import type { HubContext } from "../runtime/context.server";
import { connections, connectors } from "../../db/schema";
import { NotFoundError } from "../errors";
import type { StoredTokens } from "../oauth/tokens.server";
import { sandboxSimulatorUrl } from "../connectors/sandbox.server";
import { CalendarSyncError } from "./google-push.server";

export const OUTLOOK_CONNECTOR_ID = "outlook-calendar";
export const GRAPH_API_ROOT = "https://graph.microsoft.com";
const GRAPH_VERSION = "v1.0";

/** Connector settings the Outlook calendar reads (staff- or test-set JSON on the connectors row). */
export interface OutlookCalendarSettings {
  /** Overrides the Graph root (a simulator or a proxy), e.g. "http://127.0.0.1:4104". */
  apiRootUrl?: string;
}

export interface GraphOptions {
  /** Graph root without the version, e.g. a simulator's URL. Default: see graphApiRoot(). */
  rootUrl?: string;
}

const withoutSlash = (url: string) => url.replace(/\/+$/, "");

/**
 * The Graph root for this hub: explicit option (tests) → the outlook-calendar
 * connector's settings.apiRootUrl (how worker processes are pointed at a
 * simulator) → the sandbox's microsoft-graph simulator → graph.microsoft.com.
 */
export async function graphApiRoot(ctx: HubContext, opts: GraphOptions = {}): Promise<string> {
  if (opts.rootUrl) return withoutSlash(opts.rootUrl);
  const [row] = await ctx.db
    .select({ settings: connectors.settings })
    .from(connectors)
    .where(eq(connectors.id, OUTLOOK_CONNECTOR_ID));
  const configured = (row?.settings as OutlookCalendarSettings | undefined)?.apiRootUrl;
  if (typeof configured === "string" && /^https?:\/\//.test(configured)) return withoutSlash(configured);
  if (ctx.config.mode === "sandbox") {
    const sim = sandboxSimulatorUrl(ctx.config, "microsoft-graph");
    if (sim) return sim;
  }
  return GRAPH_API_ROOT;
}

export interface OutlookCalendar {
  conn: typeof connections.$inferSelect;
  client: Client;
  root: string;
  /**
   * A request for a path ("/me/events") or for a link Graph handed out
   * (@odata.nextLink / deltaLink), with the SDK's retries off. Links must point
   * at our Graph root: the access token is never sent anywhere else.
   */
  request(pathOrLink: string): GraphRequest;
}

export function graphClient(root: string, accessToken: string): Client {
  const url = new URL(root);
  const https = url.protocol === "https:";
  return Client.init({
    authProvider: (done) => done(null, accessToken),
    baseUrl: root,
    defaultVersion: GRAPH_VERSION,
    // The SDK attaches the token only to graph.microsoft.com and listed https hosts, and strips an
    // "Authorization" header bound elsewhere; a plain-http simulator gets it lower-cased via fetchOptions.
    ...(https && url.host !== "graph.microsoft.com" ? { customHosts: new Set([url.hostname]) } : {}),
    ...(https ? {} : { fetchOptions: { headers: { authorization: `Bearer ${accessToken}` } } }),
  });
}

/** An active Outlook Calendar connection and a Graph client authorised with its access token. */
export async function openOutlookCalendar(
  ctx: HubContext,
  connectionId: string,
  opts: GraphOptions & { allowInactive?: boolean } = {},
): Promise<OutlookCalendar> {
  const [conn] = await ctx.db.select().from(connections).where(eq(connections.id, connectionId));
  if (!conn) throw new NotFoundError(`No connection ${connectionId}`);
  if (conn.connectorId !== OUTLOOK_CONNECTOR_ID)
    throw new CalendarSyncError(`Connection ${connectionId} is ${conn.connectorId}, not ${OUTLOOK_CONNECTOR_ID}`);
  // Cleaning up after a disconnect runs before the tokens are deleted, on a connection no longer "active".
  if ((conn.status !== "active" && !opts.allowInactive) || !conn.credentialsEnc)
    throw new CalendarSyncError(`Connection ${connectionId} is not active (${conn.status})`);
  const tokens = ctx.vault.decryptJson<StoredTokens>(conn.credentialsEnc);
  const root = await graphApiRoot(ctx, opts);
  const client = graphClient(root, tokens.accessToken);
  const prefix = `${root}/${GRAPH_VERSION}`;
  const request = (pathOrLink: string): GraphRequest => {
    let path = pathOrLink;
    if (/^https?:\/\//i.test(pathOrLink)) {
      if (!pathOrLink.startsWith(`${prefix}/`)) throw new CalendarSyncError(`Graph handed out a link outside ${prefix}`);
      // The SDK parses absolute links only for https hosts: pass the part after the version.
      path = pathOrLink.slice(prefix.length);
    }
    return client.api(path).middlewareOptions([new RetryHandlerOptions(0, 0)]);
  };
  return { conn, client, root, request };
}

/** The HTTP status of a Graph SDK error (GraphError.statusCode). */
export function graphStatus(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const s = (err as { statusCode?: unknown }).statusCode;
  return typeof s === "number" ? s : undefined;
}
