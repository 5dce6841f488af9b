// The hub's domain model. One schema for every later feature to extend, so
// core-field sync, mappings, connections, webhooks, messaging and ops share
// the same tables instead of each inventing its own.
// Columns ending in `_enc` hold AES-256-GCM ciphertext (app/crypto/secrets.server.ts);
// columns ending in `_hash` hold one-way hashes. Neither ever holds plaintext.
import { sql } from "drizzle-orm";
import {
  pgTable,
  pgEnum,
  uuid,
  text,
  integer,
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  timestamp,
  jsonb,
  primaryKey,
  uniqueIndex,
  index,
  check,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

// ---------------------------------------------------------------- people
export const userRole = pgEnum("user_role", ["admin", "integration", "ops", "vendor"]);

export const suppliers = pgTable("suppliers", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  /** photographer, caterer, florist, venue, ... */
  kind: text("kind").notNull(),
  email: text("email"),
  phone: text("phone"),
  timezone: text("timezone").notNull().default("UTC"),
  /** Last sequence of this supplier's event feed (events of all its couples), gapless like a couple's. */
  lastFeedSeq: bigint("last_feed_seq", { mode: "number" }).notNull().default(0),
  /** Vendor-owned settings, e.g. arrival offsets for calendar events. */
  settings: jsonb("settings").$type<Record<string, unknown>>().notNull().default({}),
  createdAt: createdAt(),
});

/** Staff (admin, integration, ops) and vendor users share one table; vendors belong to one supplier. */
export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    role: userRole("role").notNull(),
    supplierId: uuid("supplier_id").references(() => suppliers.id, { onDelete: "cascade" }),
    passwordHash: text("password_hash").notNull(),
    disabledAt: timestamp("disabled_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("users_email_key").on(sql`lower(${t.email})`),
    check("users_vendor_has_supplier", sql`(${t.role} = 'vendor') = (${t.supplierId} is not null)`),
  ],
);

/** Server-side sessions: the cookie carries a random token, the table only its SHA-256. */
export const sessions = pgTable(
  "sessions",
  {
    idHash: text("id_hash").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    userAgent: text("user_agent"),
    ip: text("ip"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

/** Failed and successful sign-ins, kept in the database so throttling holds across web processes. */
export const loginAttempts = pgTable(
  "login_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    emailKey: text("email_key").notNull(),
    ip: text("ip").notNull(),
    succeeded: boolean("succeeded").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("login_attempts_email_at_idx").on(t.emailKey, t.at), index("login_attempts_ip_at_idx").on(t.ip, t.at)],
);

export const apiTokenKind = pgEnum("api_token_kind", ["wedme", "wedsync", "supplier", "ops"]);

/** Bearer tokens for the JSON API: `whub_<prefix>_<secret>`; only the SHA-256 is stored. */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    kind: apiTokenKind("kind").notNull(),
    supplierId: uuid("supplier_id").references(() => suppliers.id, { onDelete: "cascade" }),
    prefix: text("prefix").notNull(),
    tokenHash: text("token_hash").notNull(),
    scopes: text("scopes")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("api_tokens_hash_key").on(t.tokenHash),
    check("api_tokens_supplier_kind", sql`(${t.kind} = 'supplier') = (${t.supplierId} is not null)`),
  ],
);

// ---------------------------------------------------------------- weddings
export const couples = pgTable("couples", {
  id: uuid("id").primaryKey().defaultRandom(),
  /** Shown in lists; the authoritative names live in core fields. */
  displayName: text("display_name").notNull(),
  /** Set by ops; null means automatic (48 h before the wedding). */
  weddingDayOverride: boolean("wedding_day_override"),
  createdAt: createdAt(),
});

/** The current core fields of a couple; `version` drives optimistic concurrency. */
export const coreFields = pgTable(
  "core_fields",
  {
    coupleId: uuid("couple_id")
      .primaryKey()
      .references(() => couples.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    fields: jsonb("fields").$type<Record<string, unknown>>().notNull(),
    /** Last event sequence written for this couple; the next event takes seq + 1 (gapless). */
    lastSeq: bigint("last_seq", { mode: "number" }).notNull().default(0),
    updatedAt: updatedAt(),
  },
  // Wedding-day mode looks up the weddings of the next few days by date.
  (t) => [index("core_fields_wedding_date_idx").on(sql`(${t.fields}->>'weddingDate')`)],
);

/** Every version ever written, with its field-level diff, source and actor. */
export const coreFieldVersions = pgTable(
  "core_field_versions",
  {
    coupleId: uuid("couple_id")
      .notNull()
      .references(() => couples.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    fields: jsonb("fields").$type<Record<string, unknown>>().notNull(),
    diff: jsonb("diff").$type<Record<string, { old: unknown; new: unknown }>>().notNull(),
    source: text("source").notNull(),
    actor: text("actor").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.coupleId, t.version] })],
);

export const supplierCouples = pgTable(
  "supplier_couples",
  {
    supplierId: uuid("supplier_id")
      .notNull()
      .references(() => suppliers.id, { onDelete: "cascade" }),
    coupleId: uuid("couple_id")
      .notNull()
      .references(() => couples.id, { onDelete: "cascade" }),
    /** Vendor-owned data about this wedding (arrival time, notes, availability). */
    vendorFields: jsonb("vendor_fields").$type<Record<string, unknown>>().notNull().default({}),
    vendorVersion: integer("vendor_version").notNull().default(0),
    connectedAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.supplierId, t.coupleId] }), index("supplier_couples_couple_idx").on(t.coupleId)],
);

/**
 * The outbox: one row per change, gapless `seq` per couple. Realtime pushes,
 * outbound webhooks, calendars and the audit trail all read from here.
 */
export const events = pgTable(
  "events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    coupleId: uuid("couple_id")
      .notNull()
      .references(() => couples.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    type: text("type").notNull(),
    changedFields: jsonb("changed_fields").$type<Record<string, { old: unknown; new: unknown }>>().notNull(),
    version: integer("version").notNull(),
    source: text("source").notNull(),
    actor: text("actor").notNull(),
    /** Set when a supplier's own data changed (vendor fields); null for core-field changes. */
    supplierId: uuid("supplier_id").references(() => suppliers.id, { onDelete: "set null" }),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("events_couple_seq_key").on(t.coupleId, t.seq)],
);

/**
 * Each supplier's feed: the events of the couples connected to it, with a
 * gapless per-supplier sequence, so a vendor's client can resume from one number.
 */
export const supplierFeed = pgTable(
  "supplier_feed",
  {
    supplierId: uuid("supplier_id")
      .notNull()
      .references(() => suppliers.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    eventId: bigint("event_id", { mode: "number" })
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.supplierId, t.seq] }), index("supplier_feed_event_idx").on(t.eventId)],
);

// ---------------------------------------------------------------- connectors
/** Staff settings for a catalog connector (the catalog itself is code: app/connectors). */
export const connectors = pgTable("connectors", {
  id: text("id").primaryKey(),
  enabled: boolean("enabled").notNull().default(true),
  settings: jsonb("settings").$type<Record<string, unknown>>().notNull().default({}),
  /** OAuth client secret, API keys of the hub itself. */
  secretsEnc: text("secrets_enc"),
  updatedAt: updatedAt(),
});

export const connectionStatus = pgEnum("connection_status", ["active", "needs_reconnect", "disconnected"]);

/** A vendor's account at a provider. */
export const connections = pgTable(
  "connections",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    supplierId: uuid("supplier_id")
      .notNull()
      .references(() => suppliers.id, { onDelete: "cascade" }),
    connectorId: text("connector_id").notNull(),
    status: connectionStatus("status").notNull().default("active"),
    accountLabel: text("account_label"),
    scopes: text("scopes")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    credentialsEnc: text("credentials_enc"),
    /** The provider's id for the account, so reconnecting the same account updates this row. */
    accountId: text("account_id"),
    tokenExpiresAt: timestamp("token_expires_at", { withTimezone: true }),
    lastRefreshedAt: timestamp("last_refreshed_at", { withTimezone: true }),
    lastError: text("last_error"),
    /** Vendor choices for this connection, e.g. { calendarId, onDisconnect: "remove" | "keep" }. */
    settings: jsonb("settings").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("connections_supplier_idx").on(t.supplierId)],
);

/**
 * A pending OAuth authorization: single-use, expiring, bound to the vendor's
 * session. Only the state's hash is stored; the PKCE verifier is encrypted.
 */
export const oauthStates = pgTable("oauth_states", {
  stateHash: text("state_hash").primaryKey(),
  sessionHash: text("session_hash").notNull(),
  userId: uuid("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  supplierId: uuid("supplier_id")
    .notNull()
    .references(() => suppliers.id, { onDelete: "cascade" }),
  connectorId: text("connector_id").notNull(),
  /** Reconnecting an existing connection rather than adding one. */
  connectionId: uuid("connection_id"),
  codeVerifierEnc: text("code_verifier_enc").notNull(),
  redirectUri: text("redirect_uri").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  usedAt: timestamp("used_at", { withTimezone: true }),
  createdAt: createdAt(),
});

// ---------------------------------------------------------------- mappings
export const mappings = pgTable("mappings", {
  id: uuid("id").primaryKey().defaultRandom(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  /** e.g. { connector: "tave", object: "client" } */
  source: jsonb("source").$type<Record<string, unknown>>().notNull(),
  /** e.g. { kind: "core-fields" } or { kind: "provider-payload", connector: "google-calendar" } */
  target: jsonb("target").$type<Record<string, unknown>>().notNull(),
  /** The published version in use (rollback points it at an older one). */
  activeVersionId: uuid("active_version_id"),
  createdAt: createdAt(),
});

export const mappingVersions = pgTable(
  "mapping_versions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    mappingId: uuid("mapping_id")
      .notNull()
      .references(() => mappings.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    status: text("status", { enum: ["draft", "published"] }).notNull(),
    expression: text("expression").notNull(),
    cases: jsonb("cases").$type<unknown[]>().notNull().default([]),
    publishedAt: timestamp("published_at", { withTimezone: true }),
    publishedBy: uuid("published_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("mapping_versions_mapping_version_key").on(t.mappingId, t.version)],
);

export const syncRuns = pgTable(
  "sync_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    connectionId: uuid("connection_id").references(() => connections.id, { onDelete: "set null" }),
    supplierId: uuid("supplier_id").references(() => suppliers.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    status: text("status", { enum: ["queued", "running", "succeeded", "failed", "cancelled"] }).notNull(),
    mappingVersionId: uuid("mapping_version_id").references(() => mappingVersions.id),
    counts: jsonb("counts").$type<Record<string, number>>().notNull().default({}),
    errors: jsonb("errors").$type<unknown[]>().notNull().default([]),
    /** Where a resumed run picks up (e.g. the next page), and the run's options (dry run, only these ids). */
    cursor: jsonb("cursor").$type<Record<string, unknown>>().notNull().default({}),
    options: jsonb("options").$type<Record<string, unknown>>().notNull().default({}),
    total: integer("total"),
    done: integer("done").notNull().default(0),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index("sync_runs_connection_idx").on(t.connectionId),
    // At most one live run of a kind per connection: a second import is refused, never interleaved.
    uniqueIndex("sync_runs_one_live_run")
      .on(t.connectionId, t.kind)
      .where(sql`status in ('queued', 'running')`),
  ],
);

// ---------------------------------------------------------------- webhooks
export const webhookEndpoints = pgTable("webhook_endpoints", {
  id: uuid("id").primaryKey().defaultRandom(),
  direction: text("direction", { enum: ["in", "out"] }).notNull(),
  supplierId: uuid("supplier_id").references(() => suppliers.id, { onDelete: "cascade" }),
  name: text("name").notNull(),
  description: text("description"),
  url: text("url"),
  eventTypes: text("event_types")
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  /** Inbound: the verification scheme and its options (never the secret itself). */
  verification: jsonb("verification").$type<Record<string, unknown>>().notNull().default({}),
  secretEnc: text("secret_enc"),
  /** Secret rotation: the previous secret keeps verifying (inbound) / keeps being signed with (outbound) until then. */
  previousSecretEnc: text("previous_secret_enc"),
  previousSecretExpiresAt: timestamp("previous_secret_expires_at", { withTimezone: true }),
  mappingId: uuid("mapping_id").references(() => mappings.id, { onDelete: "set null" }),
  /** Inbound: what a mapped delivery becomes ("core-fields" change or "client" upsert). */
  applyAs: text("apply_as", { enum: ["core-fields", "client"] }),
  /** Inbound: deliveries per minute before 429. */
  rateLimitPerMinute: integer("rate_limit_per_minute").notNull().default(600),
  /** Inbound: largest body accepted, in bytes (413 above). */
  maxBodyBytes: integer("max_body_bytes").notNull().default(262_144),
  status: text("status", { enum: ["active", "disabled"] })
    .notNull()
    .default("active"),
  disabledAt: timestamp("disabled_at", { withTimezone: true }),
  disabledReason: text("disabled_reason"),
  /** Outbound: when the current run of failed attempts began (null while healthy). */
  failingSince: timestamp("failing_since", { withTimezone: true }),
  createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    /** Inbound: the sender's delivery id (dedupe); outbound: the message id sent as webhook-id. */
    externalId: text("external_id"),
    eventId: bigint("event_id", { mode: "number" }).references(() => events.id, { onDelete: "set null" }),
    eventType: text("event_type"),
    /** Outbound ordering: deliveries of one couple to one endpoint go in `seq` order. */
    coupleId: uuid("couple_id").references(() => couples.id, { onDelete: "set null" }),
    seq: bigint("seq", { mode: "number" }),
    /** received | processing | processed | failed | dead (inbound); pending | delivering | delivered | failed | dead | held (outbound). */
    status: text("status").notNull(),
    headers: jsonb("headers").$type<Record<string, string>>().notNull().default({}),
    body: text("body"),
    /** Inbound: how the request was verified (scheme, outcome). */
    verification: jsonb("verification").$type<Record<string, unknown>>(),
    /** Inbound: the mapping's output and what applying it did. */
    mappedOutput: jsonb("mapped_output").$type<unknown>(),
    result: jsonb("result").$type<Record<string, unknown>>(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    lastError: text("last_error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_endpoint_external_key").on(t.endpointId, t.externalId),
    index("webhook_deliveries_endpoint_couple_seq").on(t.endpointId, t.coupleId, t.seq),
    index("webhook_deliveries_status_idx").on(t.endpointId, t.status),
  ],
);

/** Every outbound attempt (and inbound processing attempt) with its outcome; response excerpts capped. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    deliveryId: uuid("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    durationMs: integer("duration_ms"),
    /** HTTP status the receiver answered (outbound), null on a network error or timeout. */
    httpStatus: integer("http_status"),
    outcome: text("outcome", { enum: ["succeeded", "failed", "timeout", "refused"] }).notNull(),
    error: text("error"),
    responseExcerpt: text("response_excerpt"),
  },
  (t) => [index("webhook_attempts_delivery_idx").on(t.deliveryId)],
);

/** Inbound requests refused before anything was stored (counted and visible; bodies are not kept). */
export const webhookRefusals = pgTable(
  "webhook_refusals",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** The endpoint id as given in the URL (may not exist). */
    endpointRef: text("endpoint_ref").notNull(),
    status: integer("status").notNull(),
    reason: text("reason").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("webhook_refusals_endpoint_idx").on(t.endpointRef, t.at)],
);

// ---------------------------------------------------------------- messaging
// app/messaging/ is the one module every part of the hub sends through. A
// message is one recipient on one channel; attempts, timeline events,
// suppressions, preferences, push subscriptions, SMS opt-outs and provider
// health hang off it (see app/messaging/types.ts for the provider contract).
export const messageChannel = ["email", "sms", "push"] as const;
export const messageStatus = ["queued", "sending", "sent", "delivered", "bounced", "complained", "failed", "suppressed"] as const;

export const messages = pgTable(
  "messages",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    channel: text("channel", { enum: messageChannel }).notNull(),
    /** Normalised: lowercased email, E.164 phone, or the user id for push. */
    recipient: text("recipient").notNull(),
    template: text("template").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
    priority: integer("priority").notNull().default(0),
    /** Per message (request key + recipient): the key providers see, so a retry after a crash is deduped by them. */
    idempotencyKey: text("idempotency_key").notNull(),
    /** The caller's idempotency key for the whole send (several recipients share it); a repeat call finds them here. */
    requestKey: text("request_key"),
    status: text("status", { enum: messageStatus }).notNull().default("queued"),
    /** Why the status is what it is: suppression reason, preference, last provider error. */
    statusReason: text("status_reason"),
    /** The provider that took the message (accepted it), once one did. */
    provider: text("provider"),
    providerMessageId: text("provider_message_id"),
    attemptCount: integer("attempt_count").notNull().default(0),
    /** Wedding-day critical messages override quiet hours. */
    critical: boolean("critical").notNull().default(false),
    /** Held until then (quiet hours); null = as soon as possible. */
    notBefore: timestamp("not_before", { withTimezone: true }),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    coupleId: uuid("couple_id").references(() => couples.id, { onDelete: "set null" }),
    supplierId: uuid("supplier_id").references(() => suppliers.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("messages_idempotency_key").on(t.idempotencyKey),
    index("messages_request_key_idx").on(t.requestKey),
    index("messages_created_idx").on(t.createdAt),
    index("messages_status_idx").on(t.status, t.channel),
    index("messages_provider_message_idx").on(t.provider, t.providerMessageId),
    index("messages_couple_idx").on(t.coupleId),
    index("messages_supplier_idx").on(t.supplierId),
  ],
);

/**
 * One row per call to a provider. Written (status "sending") BEFORE the call
 * and finished after it, so a worker that dies mid-call leaves evidence: the
 * retry sees an unfinished attempt and reuses its provider + request key.
 */
export const messageAttempts = pgTable(
  "message_attempts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    messageId: uuid("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    /** 1, 2, 3 … per message. */
    attemptNo: integer("attempt_no").notNull(),
    provider: text("provider").notNull(),
    /** sending: in flight (or the worker died); accepted; failed: definitely not sent; ambiguous: may have been sent; rate_limited. */
    status: text("status", { enum: ["sending", "accepted", "failed", "ambiguous", "rate_limited", "skipped"] })
      .notNull()
      .default("sending"),
    /** The idempotency key sent to the provider (same across retries of the same message). */
    requestKey: text("request_key").notNull(),
    providerMessageId: text("provider_message_id"),
    httpStatus: integer("http_status"),
    error: text("error"),
    retryAfterMs: integer("retry_after_ms"),
    workerId: text("worker_id"),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("message_attempts_message_no").on(t.messageId, t.attemptNo),
    index("message_attempts_provider_message_idx").on(t.provider, t.providerMessageId),
    index("message_attempts_started_idx").on(t.provider, t.startedAt),
  ],
);

/**
 * A message's timeline: every status change, attempt outcome and delivery
 * event from a provider. Provider events carry their own id; the unique index
 * makes a replayed event a no-op.
 */
export const messageEvents = pgTable(
  "message_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    messageId: uuid("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    attemptId: uuid("attempt_id").references(() => messageAttempts.id, { onDelete: "set null" }),
    /** e.g. "status", "attempt.failed", "failover", "provider.delivered", "provider.bounced". */
    type: text("type").notNull(),
    /** The message status after this event, when it changed it. */
    status: text("status", { enum: messageStatus }),
    provider: text("provider"),
    /** "hub" for our own transitions, "webhook" for events the provider sent back. */
    source: text("source", { enum: ["hub", "webhook"] })
      .notNull()
      .default("hub"),
    /** The provider's event id (svix-id, sg_event_id, SNS MessageId, Twilio SID + status). */
    externalId: text("external_id"),
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull().default({}),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
  },
  (t) => [
    index("message_events_message_idx").on(t.messageId, t.id),
    uniqueIndex("message_events_provider_external")
      .on(t.provider, t.externalId)
      .where(sql`external_id is not null`),
  ],
);

/** Addresses the hub must not send to on a channel (bounce, complaint, unsubscribe, manual). */
export const suppressions = pgTable(
  "suppressions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    channel: text("channel", { enum: messageChannel }).notNull(),
    /** Normalised like messages.recipient. */
    address: text("address").notNull(),
    reason: text("reason", { enum: ["bounce", "complaint", "unsubscribe", "manual", "invalid"] }).notNull(),
    provider: text("provider"),
    /** The message and timeline event that caused it, when a delivery event did. */
    messageId: uuid("message_id").references(() => messages.id, { onDelete: "set null" }),
    sourceEventId: bigint("source_event_id", { mode: "number" }).references(() => messageEvents.id, {
      onDelete: "set null",
    }),
    detail: text("detail"),
    createdAt: createdAt(),
    /** Lifted by staff; a lifted row stays for the record. */
    liftedAt: timestamp("lifted_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("suppressions_active_address")
      .on(t.channel, t.address)
      .where(sql`lifted_at is null`),
  ],
);

/**
 * Per recipient: which channels and which kinds of message they want, and
 * quiet hours in their own time zone (critical wedding-day messages override).
 */
export const recipientPreferences = pgTable(
  "recipient_preferences",
  {
    /** Normalised like messages.recipient (email, E.164, or user id for push). */
    recipient: text("recipient").primaryKey(),
    userId: uuid("user_id").references(() => users.id, { onDelete: "cascade" }),
    /** Channels allowed; empty = none. */
    channels: text("channels")
      .array()
      .notNull()
      .default(sql`'{email,sms,push}'::text[]`),
    /** Message kinds (template ids) the recipient turned off. */
    mutedKinds: text("muted_kinds")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** "HH:MM" local time; both null = no quiet hours. */
    quietStart: text("quiet_start"),
    quietEnd: text("quiet_end"),
    timeZone: text("time_zone").notNull().default("UTC"),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("recipient_preferences_user_idx").on(t.userId),
    check(
      "recipient_preferences_quiet_format",
      sql`(quiet_start is null or quiet_start ~ '^[0-2][0-9]:[0-5][0-9]$') and (quiet_end is null or quiet_end ~ '^[0-2][0-9]:[0-5][0-9]$')`,
    ),
  ],
);

/** Web Push subscriptions of a user's browsers; the subscription keys are encrypted at rest. */
export const pushSubscriptions = pgTable(
  "push_subscriptions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    endpoint: text("endpoint").notNull(),
    /** The browser's ECDH public key (p256dh) and auth secret, vault-encrypted. */
    p256dhEnc: text("p256dh_enc").notNull(),
    authEnc: text("auth_enc").notNull(),
    userAgent: text("user_agent"),
    status: text("status", { enum: ["active", "expired"] })
      .notNull()
      .default("active"),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("push_subscriptions_endpoint").on(t.endpoint), index("push_subscriptions_user_idx").on(t.userId)],
);

/**
 * STOP / START history per phone number (E.164); the latest row decides
 * whether the number is opted out. The inbound message SID dedupes replays.
 */
export const smsOptOuts = pgTable(
  "sms_opt_outs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    phone: text("phone").notNull(),
    keyword: text("keyword").notNull(),
    action: text("action", { enum: ["opt_out", "opt_in"] }).notNull(),
    /** Twilio's inbound MessageSid (or "console:<uuid>"). */
    sourceId: text("source_id").notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("sms_opt_outs_source").on(t.sourceId), index("sms_opt_outs_phone_idx").on(t.phone, t.id)],
);

/**
 * A snapshot of each provider's health for the console and for other
 * processes: the circuit breaker itself is cockatiel, in memory per worker.
 */
export const providerHealth = pgTable("provider_health", {
  provider: text("provider").primaryKey(),
  channel: text("channel", { enum: messageChannel }).notNull(),
  circuitState: text("circuit_state", { enum: ["closed", "open", "half_open", "isolated"] })
    .notNull()
    .default("closed"),
  successes: integer("successes").notNull().default(0),
  failures: integer("failures").notNull().default(0),
  consecutiveFailures: integer("consecutive_failures").notNull().default(0),
  lastSuccessAt: timestamp("last_success_at", { withTimezone: true }),
  lastFailureAt: timestamp("last_failure_at", { withTimezone: true }),
  lastError: text("last_error"),
  openedAt: timestamp("opened_at", { withTimezone: true }),
  updatedAt: updatedAt(),
});

// ---------------------------------------------------------------- operations
/**
 * Append-only audit trail: who did what, with before and after.
 * A trigger (migration 0001) refuses UPDATE and DELETE.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    actorType: text("actor_type", { enum: ["user", "api_token", "system"] }).notNull(),
    actorId: text("actor_id"),
    actorLabel: text("actor_label").notNull(),
    action: text("action").notNull(),
    entityType: text("entity_type").notNull(),
    entityId: text("entity_id"),
    before: jsonb("before"),
    after: jsonb("after"),
  },
  (t) => [index("audit_log_at_idx").on(t.at), index("audit_log_entity_idx").on(t.entityType, t.entityId)],
);

/**
 * One row per execution of a diagnostic job: proves a job queued once runs
 * once across every worker process sharing the database.
 */
export const jobExecutions = pgTable(
  "job_executions",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    task: text("task").notNull(),
    jobKey: text("job_key").notNull(),
    workerId: text("worker_id").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("job_executions_key_idx").on(t.jobKey)],
);

// ---------------------------------------------------------------- calendars
/**
 * One row per wedding event the hub keeps in a vendor's external calendar:
 * the provider's id and etag of the last write and a hash of the body we sent,
 * so a sync only touches events whose content changed. `event_key` is the
 * hub's stable key for the event (e.g. "<coupleId>:ceremony").
 */
export const calendarEvents = pgTable(
  "calendar_events",
  {
    connectionId: uuid("connection_id")
      .notNull()
      .references(() => connections.id, { onDelete: "cascade" }),
    eventKey: text("event_key").notNull(),
    providerEventId: text("provider_event_id").notNull(),
    etag: text("etag"),
    calendarId: text("calendar_id").notNull(),
    payloadHash: text("payload_hash").notNull(),
    status: text("status", { enum: ["active", "deleted"] })
      .notNull()
      .default("active"),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("calendar_events_connection_key").on(t.connectionId, t.eventKey)],
);

/**
 * A vendor's busy times pulled from its external calendar (Google), one row per
 * provider event, built by the `google-event-to-availability-block` mapping.
 * Start and end keep the provider's form: an RFC 3339 date-time with its offset,
 * or a date for all-day blocks (end exclusive, as in Google).
 */
export const availabilityBlocks = pgTable(
  "availability_blocks",
  {
    connectionId: uuid("connection_id")
      .notNull()
      .references(() => connections.id, { onDelete: "cascade" }),
    supplierId: uuid("supplier_id")
      .notNull()
      .references(() => suppliers.id, { onDelete: "cascade" }),
    externalId: text("external_id").notNull(),
    startsAt: text("starts_at").notNull(),
    endsAt: text("ends_at").notNull(),
    allDay: boolean("all_day").notNull(),
    status: text("status", { enum: ["busy", "tentative", "free"] }).notNull(),
    summary: text("summary"),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("availability_blocks_connection_external").on(t.connectionId, t.externalId),
    index("availability_blocks_supplier_idx").on(t.supplierId),
  ],
);

/** Incremental-pull state per calendar connection: Google's nextSyncToken (null = next pull is a full sync). */
export const calendarSyncState = pgTable("calendar_sync_state", {
  connectionId: uuid("connection_id")
    .primaryKey()
    .references(() => connections.id, { onDelete: "cascade" }),
  calendarId: text("calendar_id").notNull(),
  /** Google nextSyncToken, Graph deltaLink or CalDAV sync-token, whichever the provider uses. */
  syncToken: text("sync_token"),
  lastFullSyncAt: timestamp("last_full_sync_at", { withTimezone: true }),
  lastIncrementalAt: timestamp("last_incremental_at", { withTimezone: true }),
  /** The last push (events to the provider): when, its counts, and the error if it failed. */
  lastPushAt: timestamp("last_push_at", { withTimezone: true }),
  lastPushResult: jsonb("last_push_result").$type<Record<string, number>>(),
  lastError: text("last_error"),
  lastErrorAt: timestamp("last_error_at", { withTimezone: true }),
});

/**
 * A vendor's iCal feed URL: `/calendar/feeds/<token>.ics`. Only the token's
 * sha256 is kept; revoking sets revoked_at and the URL answers 404 from then on.
 */
export const calendarFeeds = pgTable(
  "calendar_feeds",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    supplierId: uuid("supplier_id")
      .notNull()
      .references(() => suppliers.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    /** The token's last 4 characters, so a vendor can tell feeds apart. */
    tokenHint: text("token_hint").notNull(),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    lastFetchedAt: timestamp("last_fetched_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("calendar_feeds_token_hash").on(t.tokenHash), index("calendar_feeds_supplier_idx").on(t.supplierId)],
);

/**
 * Provider push-notification channels: Google watch channels and Microsoft
 * Graph subscriptions. The channel token / clientState is kept only as a hash
 * and compared in constant time when a notification arrives.
 */
export const calendarChannels = pgTable(
  "calendar_channels",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    connectionId: uuid("connection_id")
      .notNull()
      .references(() => connections.id, { onDelete: "cascade" }),
    provider: text("provider", { enum: ["google", "microsoft"] }).notNull(),
    /** Google channel id (ours) or Graph subscription id (theirs). */
    channelId: text("channel_id").notNull(),
    /** Google's resourceId, needed to stop the channel. */
    resourceId: text("resource_id"),
    secretHash: text("secret_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    status: text("status", { enum: ["active", "stopped"] })
      .notNull()
      .default("active"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("calendar_channels_provider_channel").on(t.provider, t.channelId),
    index("calendar_channels_connection_idx").on(t.connectionId),
  ],
);

// ---------------------------------------------------------------- CRM import
/**
 * Which WedSync couple an external CRM record became, per supplier and source,
 * with the hash of the mapped record: a re-import of an unchanged record is a no-op.
 */
export const importedRecords = pgTable(
  "imported_records",
  {
    supplierId: uuid("supplier_id")
      .notNull()
      .references(() => suppliers.id, { onDelete: "cascade" }),
    /** The connector id: tave, honeybook, seventeen-hats, lightblue. */
    source: text("source").notNull(),
    externalId: text("external_id").notNull(),
    coupleId: uuid("couple_id")
      .notNull()
      .references(() => couples.id, { onDelete: "cascade" }),
    recordHash: text("record_hash").notNull(),
    lastRunId: uuid("last_run_id").references(() => syncRuns.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.supplierId, t.source, t.externalId] })],
);

/**
 * Token buckets shared by every worker process (a provider's per-account rate
 * limit must hold across machines, so it lives in PostgreSQL, not in memory).
 */
export const rateLimitBuckets = pgTable("rate_limit_buckets", {
  key: text("key").primaryKey(),
  tokens: doublePrecision("tokens").notNull(),
  refilledAt: timestamp("refilled_at", { withTimezone: true }).notNull(),
  /** A provider's Retry-After: nobody calls before this. */
  blockedUntil: timestamp("blocked_until", { withTimezone: true }),
});

// ---------------------------------------------------------------- operations
/**
 * Each process (web or worker) writes its prom-client registry here every few
 * seconds, so the dashboard sees worker metrics too, from any web process.
 */
export const metricSnapshots = pgTable(
  "metric_snapshots",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** hostname:pid:role, stable for the life of a process. */
    processId: text("process_id").notNull(),
    role: text("role").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    /** prom-client's getMetricsAsJSON(), trimmed to the hub's own metrics. */
    metrics: jsonb("metrics").$type<unknown[]>().notNull(),
  },
  (t) => [index("metric_snapshots_process_at").on(t.processId, t.at), index("metric_snapshots_at").on(t.at)],
);

/** The KPI time series behind the dashboard's charts and the alert rules (one row per KPI per tick). */
export const kpiSamples = pgTable(
  "kpi_samples",
  {
    kpi: text("kpi").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull(),
    value: doublePrecision("value"),
    state: text("state", { enum: ["green", "amber", "red", "unknown"] }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.kpi, t.at] })],
);

/** An alert: a KPI past its threshold for long enough. Open → acknowledged → resolved, with a timeline. */
export const alerts = pgTable(
  "alerts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    kpi: text("kpi").notNull(),
    status: text("status", { enum: ["open", "acknowledged", "resolved"] }).notNull(),
    message: text("message").notNull(),
    threshold: doublePrecision("threshold"),
    lastValue: doublePrecision("last_value"),
    openedAt: timestamp("opened_at", { withTimezone: true }).notNull().defaultNow(),
    acknowledgedAt: timestamp("acknowledged_at", { withTimezone: true }),
    acknowledgedBy: uuid("acknowledged_by").references(() => users.id, { onDelete: "set null" }),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
  },
  (t) => [
    // One live alert per KPI: a breach that continues updates it instead of opening another.
    uniqueIndex("alerts_one_live_per_kpi")
      .on(t.kpi)
      .where(sql`status in ('open', 'acknowledged')`),
  ],
);

export const alertEvents = pgTable(
  "alert_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    alertId: uuid("alert_id")
      .notNull()
      .references(() => alerts.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    kind: text("kind", { enum: ["opened", "value", "acknowledged", "notified", "resolved", "reopened"] }).notNull(),
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index("alert_events_alert_idx").on(t.alertId, t.at)],
);

/** What the consistency checker found, each item named; resolved when a later run no longer finds it. */
export const consistencyFindings = pgTable(
  "consistency_findings",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    invariant: text("invariant").notNull(),
    entityType: text("entity_type").notNull(),
    entityId: text("entity_id").notNull(),
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull().default({}),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("consistency_findings_open_item")
      .on(t.invariant, t.entityType, t.entityId)
      .where(sql`resolved_at is null`),
  ],
);

/** One row per run of the consistency checker: proves it ran (a clean run finds nothing) and what it checked. */
export const consistencyRuns = pgTable(
  "consistency_runs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    /** Per invariant: items checked and items found inconsistent. */
    checked: jsonb("checked").$type<Record<string, { checked: number; found: number }>>().notNull().default({}),
    found: integer("found").notNull().default(0),
    error: text("error"),
  },
  (t) => [index("consistency_runs_started_idx").on(t.startedAt)],
);

/**
 * The last pre-warm of a wedding-day couple's vendor connections: tokens
 * refreshed ahead of expiry, calendars re-verified. One row per (couple, connection).
 */
export const weddingDayPrewarm = pgTable(
  "wedding_day_prewarm",
  {
    coupleId: uuid("couple_id")
      .notNull()
      .references(() => couples.id, { onDelete: "cascade" }),
    connectionId: uuid("connection_id")
      .notNull()
      .references(() => connections.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    tokenRefreshed: boolean("token_refreshed").notNull().default(false),
    calendarVerified: boolean("calendar_verified"),
    error: text("error"),
  },
  (t) => [primaryKey({ columns: [t.coupleId, t.connectionId] })],
);
