// Mappings and their versions in the database. Drafts are editable; a
// published version is immutable. The active version is what imports,
// webhooks and syncs use; rollback points it at an older published version.
import { and, asc, desc, eq, sql } from "drizzle-orm";
import { createTwoFilesPatch } from "diff";
import type { Db, DbOrTx } from "../db.server";
import { mappings, mappingVersions, webhookEndpoints } from "../../db/schema";
import { ConflictError, NotFoundError, ValidationError } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.server";
import { compileMapping, MappingSyntaxError } from "./engine";
import { isTargetId, type TargetId } from "./targets";
import type { MappingCase, MappingFile } from "./files.server";

export interface MappingSummary {
  id: string;
  slug: string;
  name: string;
  source: { connector: string; object: string; description?: string };
  target: TargetId;
  activeVersion: number | null;
  latestVersion: number | null;
  hasDraft: boolean;
  usedBy: string[];
}

export interface MappingVersion {
  id: string;
  version: number;
  status: "draft" | "published";
  expression: string;
  cases: MappingCase[];
  publishedAt: Date | null;
  createdAt: Date;
}

export interface MappingDetail extends MappingSummary {
  versions: MappingVersion[];
  active: MappingVersion | null;
  draft: MappingVersion | null;
}

type MappingRow = typeof mappings.$inferSelect;
type VersionRow = typeof mappingVersions.$inferSelect;

const toVersion = (v: VersionRow): MappingVersion => ({
  id: v.id,
  version: v.version,
  status: v.status,
  expression: v.expression,
  cases: v.cases as MappingCase[],
  publishedAt: v.publishedAt,
  createdAt: v.createdAt,
});

function targetOf(m: MappingRow): TargetId {
  const id = String((m.target as { kind?: unknown }).kind ?? "");
  return isTargetId(id) ? id : "core-fields";
}

export async function listMappings(db: DbOrTx): Promise<MappingSummary[]> {
  const rows = await db.select().from(mappings).orderBy(asc(mappings.slug));
  const versions = await db.select().from(mappingVersions);
  const users = await db.select({ mappingId: webhookEndpoints.mappingId, name: webhookEndpoints.name }).from(webhookEndpoints);
  return rows.map((m) =>
    summary(
      m,
      versions.filter((v) => v.mappingId === m.id),
      users.filter((u) => u.mappingId === m.id).map((u) => `webhook: ${u.name}`),
    ),
  );
}

function summary(m: MappingRow, versions: VersionRow[], usedBy: string[]): MappingSummary {
  const active = versions.find((v) => v.id === m.activeVersionId);
  return {
    id: m.id,
    slug: m.slug,
    name: m.name,
    source: m.source as MappingSummary["source"],
    target: targetOf(m),
    activeVersion: active?.version ?? null,
    latestVersion: versions.length ? Math.max(...versions.map((v) => v.version)) : null,
    hasDraft: versions.some((v) => v.status === "draft"),
    usedBy,
  };
}

export async function getMapping(db: DbOrTx, slug: string): Promise<MappingDetail> {
  const [m] = await db.select().from(mappings).where(eq(mappings.slug, slug));
  if (!m) throw new NotFoundError(`No mapping "${slug}"`);
  const versions = await db
    .select()
    .from(mappingVersions)
    .where(eq(mappingVersions.mappingId, m.id))
    .orderBy(desc(mappingVersions.version));
  const users = await db
    .select({ name: webhookEndpoints.name })
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.mappingId, m.id));
  const all = versions.map(toVersion);
  return {
    ...summary(
      m,
      versions,
      users.map((u) => `webhook: ${u.name}`),
    ),
    versions: all,
    active: all.find((v) => v.id === m.activeVersionId) ?? null,
    draft: all.find((v) => v.status === "draft") ?? null,
  };
}

/** What imports and webhooks run: the active published version. */
export async function activeMapping(
  db: DbOrTx,
  slug: string,
): Promise<{ versionId: string; version: number; expression: string; target: TargetId }> {
  const res = await db
    .select({ m: mappings, v: mappingVersions })
    .from(mappings)
    .innerJoin(mappingVersions, eq(mappingVersions.id, mappings.activeVersionId))
    .where(eq(mappings.slug, slug));
  const row = res[0];
  if (!row) throw new NotFoundError(`Mapping "${slug}" has no published version`);
  return { versionId: row.v.id, version: row.v.version, expression: row.v.expression, target: targetOf(row.m) };
}

export function assertCompiles(expression: string): void {
  try {
    compileMapping(expression);
  } catch (err) {
    if (err instanceof MappingSyntaxError) throw new ValidationError(err.message, { expression: [err.message] });
    throw err;
  }
}

export async function createMapping(
  db: Db,
  input: { slug: string; name: string; source: MappingSummary["source"]; target: TargetId },
  actor: Actor,
): Promise<MappingSummary> {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(input.slug))
    throw new ValidationError("Invalid mapping", { slug: ["must be kebab-case, like tave-client-to-wedsync-client"] });
  const [existing] = await db.select({ id: mappings.id }).from(mappings).where(eq(mappings.slug, input.slug));
  if (existing) throw new ConflictError(`A mapping "${input.slug}" already exists`);
  const [row] = await db
    .insert(mappings)
    .values({ slug: input.slug, name: input.name, source: input.source, target: { kind: input.target } })
    .returning();
  await recordAudit(db, actor, { action: "mapping.create", entityType: "mapping", entityId: row!.id, after: input });
  return summary(row!, [], []);
}

/** Create or update the one draft of a mapping. */
export async function saveDraft(
  db: Db,
  slug: string,
  input: { expression: string; cases: MappingCase[] },
  actor: Actor,
): Promise<MappingVersion> {
  // Browsers send form text with CRLF line breaks; store what git would.
  input = { ...input, expression: input.expression.replace(/\r\n/g, "\n") };
  assertCompiles(input.expression);
  return db.transaction(async (tx) => {
    const m = await lockMapping(tx, slug);
    const [draft] = await tx
      .select()
      .from(mappingVersions)
      .where(and(eq(mappingVersions.mappingId, m.id), eq(mappingVersions.status, "draft")));
    if (draft) {
      const [row] = await tx
        .update(mappingVersions)
        .set({ expression: input.expression, cases: input.cases })
        .where(eq(mappingVersions.id, draft.id))
        .returning();
      await recordAudit(tx, actor, {
        action: "mapping.draft_update",
        entityType: "mapping",
        entityId: m.id,
        before: { version: draft.version, expression: draft.expression },
        after: { version: row!.version, expression: row!.expression },
      });
      return toVersion(row!);
    }
    const next = await nextVersion(tx, m.id);
    const [row] = await tx
      .insert(mappingVersions)
      .values({ mappingId: m.id, version: next, status: "draft", expression: input.expression, cases: input.cases })
      .returning();
    await recordAudit(tx, actor, {
      action: "mapping.draft_create",
      entityType: "mapping",
      entityId: m.id,
      after: { version: next, expression: input.expression },
    });
    return toVersion(row!);
  });
}

/** The draft becomes an immutable published version, and the active one. */
export async function publishDraft(db: Db, slug: string, actor: Actor): Promise<MappingVersion> {
  return db.transaction(async (tx) => {
    const m = await lockMapping(tx, slug);
    const [draft] = await tx
      .select()
      .from(mappingVersions)
      .where(and(eq(mappingVersions.mappingId, m.id), eq(mappingVersions.status, "draft")));
    if (!draft) throw new ConflictError(`Mapping "${slug}" has no draft to publish`);
    assertCompiles(draft.expression);
    const [row] = await tx
      .update(mappingVersions)
      .set({ status: "published", publishedAt: sql`now()`, publishedBy: actor.type === "user" ? actor.id : null })
      .where(eq(mappingVersions.id, draft.id))
      .returning();
    const before = await versionNumber(tx, m.activeVersionId);
    await tx.update(mappings).set({ activeVersionId: row!.id }).where(eq(mappings.id, m.id));
    await recordAudit(tx, actor, {
      action: "mapping.publish",
      entityType: "mapping",
      entityId: m.id,
      before: { activeVersion: before },
      after: { activeVersion: row!.version, expression: row!.expression },
    });
    return toVersion(row!);
  });
}

/** Point the active version at an older (or newer) published one. */
export async function activateVersion(db: Db, slug: string, version: number, actor: Actor): Promise<MappingVersion> {
  return db.transaction(async (tx) => {
    const m = await lockMapping(tx, slug);
    const [row] = await tx
      .select()
      .from(mappingVersions)
      .where(and(eq(mappingVersions.mappingId, m.id), eq(mappingVersions.version, version)));
    if (!row) throw new NotFoundError(`Mapping "${slug}" has no version ${version}`);
    if (row.status !== "published") throw new ConflictError(`Version ${version} is a draft; publish it first`);
    const before = await versionNumber(tx, m.activeVersionId);
    await tx.update(mappings).set({ activeVersionId: row.id }).where(eq(mappings.id, m.id));
    await recordAudit(tx, actor, {
      action: "mapping.activate",
      entityType: "mapping",
      entityId: m.id,
      before: { activeVersion: before },
      after: { activeVersion: version },
    });
    return toVersion(row);
  });
}

/** A unified diff of two versions' expressions and cases. */
export async function diffVersions(db: DbOrTx, slug: string, from: number, to: number): Promise<string> {
  const detail = await getMapping(db, slug);
  const a = detail.versions.find((v) => v.version === from);
  const b = detail.versions.find((v) => v.version === to);
  if (!a || !b) throw new NotFoundError(`Mapping "${slug}" has no version ${!a ? from : to}`);
  const text = (v: MappingVersion) => `${v.expression.trimEnd()}\n\n// cases\n${JSON.stringify(v.cases, null, 2)}\n`;
  return createTwoFilesPatch(`${slug} v${from}`, `${slug} v${to}`, text(a), text(b), "", "", { context: 3 });
}

/**
 * Bring the files in mappings/ into the database: a file that matches none of
 * its mapping's versions becomes a new published, active version.
 */
export async function importMappingFiles(
  db: Db,
  files: MappingFile[],
  actor: Actor,
): Promise<{ created: number; published: number; unchanged: number }> {
  const counts = { created: 0, published: 0, unchanged: 0 };
  for (const f of files) {
    await db.transaction(async (tx) => {
      // Serialise concurrent importers (several processes starting together).
      await tx.execute(sql`select pg_advisory_xact_lock(727003, hashtext(${f.slug}))`);
      let [m] = await tx.select().from(mappings).where(eq(mappings.slug, f.slug));
      if (!m) {
        [m] = await tx
          .insert(mappings)
          .values({ slug: f.slug, name: f.name, source: f.source, target: { kind: f.target } })
          .returning();
        counts.created++;
      } else {
        await tx
          .update(mappings)
          .set({ name: f.name, source: f.source, target: { kind: f.target } })
          .where(eq(mappings.id, m.id));
      }
      // A file equal to any existing version is not news: staff may have published a newer one
      // in the console, which a restart must not overwrite (export it to files to review it).
      const versions = await tx.select().from(mappingVersions).where(eq(mappingVersions.mappingId, m!.id));
      if (versions.some((v) => v.expression === f.expression && JSON.stringify(v.cases) === JSON.stringify(f.cases))) {
        counts.unchanged++;
        return;
      }
      const next = await nextVersion(tx, m!.id);
      const [row] = await tx
        .insert(mappingVersions)
        .values({
          mappingId: m!.id,
          version: next,
          status: "published",
          expression: f.expression,
          cases: f.cases,
          publishedAt: sql`now()`,
        })
        .returning();
      await tx.update(mappings).set({ activeVersionId: row!.id }).where(eq(mappings.id, m!.id));
      await recordAudit(tx, actor, {
        action: "mapping.import",
        entityType: "mapping",
        entityId: m!.id,
        after: { version: next, from: "mappings/" },
      });
      counts.published++;
    });
  }
  return counts;
}

/** The active versions, as files (for `npm run hub -- mappings export`). */
export async function exportMappings(db: DbOrTx): Promise<MappingFile[]> {
  const out: MappingFile[] = [];
  for (const s of await listMappings(db)) {
    const d = await getMapping(db, s.slug);
    if (!d.active) continue;
    out.push({
      slug: d.slug,
      name: d.name,
      source: d.source,
      target: d.target,
      expression: d.active.expression,
      cases: d.active.cases,
    });
  }
  return out;
}

async function lockMapping(tx: DbOrTx, slug: string): Promise<MappingRow> {
  const res = await tx.execute<{ id: string }>(sql`select id from mappings where slug = ${slug} for update`);
  if (!res.rows[0]) throw new NotFoundError(`No mapping "${slug}"`);
  const [m] = await tx.select().from(mappings).where(eq(mappings.id, res.rows[0].id));
  return m!;
}

async function nextVersion(tx: DbOrTx, mappingId: string): Promise<number> {
  const res = await tx.execute<{ n: number }>(
    sql`select coalesce(max(version), 0)::int + 1 as n from mapping_versions where mapping_id = ${mappingId}`,
  );
  return res.rows[0]!.n;
}

async function versionNumber(tx: DbOrTx, versionId: string | null): Promise<number | null> {
  if (!versionId) return null;
  const [v] = await tx
    .select({ version: mappingVersions.version })
    .from(mappingVersions)
    .where(eq(mappingVersions.id, versionId));
  return v?.version ?? null;
}
