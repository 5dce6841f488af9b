// Staff and vendor accounts.
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "../db.server";
import { users, suppliers } from "../../db/schema";
import { ConflictError, NotFoundError, ValidationError } from "../errors";
import { hashPassword, MIN_PASSWORD_LENGTH } from "./passwords.server";
import { recordAudit, type Actor } from "../audit/audit.server";

export type UserRole = "admin" | "integration" | "ops" | "vendor";
export const STAFF_ROLES = ["admin", "integration", "ops"] as const;

export interface User {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  supplierId: string | null;
}

export const passwordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(200, "must be at most 200 characters");

export const newUserSchema = z
  .object({
    email: z.email("must be an email address like name@example.com").max(254),
    name: z.string().trim().min(1, "must not be empty").max(200),
    role: z.enum(["admin", "integration", "ops", "vendor"], { error: "must be admin, integration, ops or vendor" }),
    supplierId: z.uuid("must be a supplier id").optional(),
    password: passwordSchema,
  })
  .refine((u) => (u.role === "vendor") === Boolean(u.supplierId), {
    message: "a vendor user needs a supplier, and only vendor users have one",
    path: ["supplierId"],
  });

export type NewUser = z.input<typeof newUserSchema>;

export function fieldErrorsOf(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.join(".") || "_";
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

export async function createUser(db: DbOrTx, input: NewUser, actor: Actor): Promise<User> {
  const parsed = newUserSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError("The user could not be created", fieldErrorsOf(parsed.error));
  const u = parsed.data;
  if (u.supplierId) {
    const [s] = await db.select({ id: suppliers.id }).from(suppliers).where(eq(suppliers.id, u.supplierId));
    if (!s) throw new NotFoundError(`No supplier with id ${u.supplierId}`);
  }
  const existing = await findUserByEmail(db, u.email);
  if (existing) throw new ConflictError(`A user with email ${u.email} already exists`);
  const [row] = await db
    .insert(users)
    .values({
      email: u.email,
      name: u.name,
      role: u.role,
      supplierId: u.supplierId ?? null,
      passwordHash: await hashPassword(u.password),
    })
    .returning();
  const user = toUser(row!);
  await recordAudit(db, actor, {
    action: "user.create",
    entityType: "user",
    entityId: user.id,
    after: { email: user.email, name: user.name, role: user.role, supplierId: user.supplierId },
  });
  return user;
}

export async function findUserByEmail(
  db: DbOrTx,
  email: string,
): Promise<(User & { passwordHash: string; disabled: boolean }) | null> {
  const [row] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = lower(${email})`);
  return row ? { ...toUser(row), passwordHash: row.passwordHash, disabled: row.disabledAt !== null } : null;
}

export function toUser(row: typeof users.$inferSelect): User {
  return { id: row.id, email: row.email, name: row.name, role: row.role, supplierId: row.supplierId };
}

export function isStaff(user: User): boolean {
  return user.role !== "vendor";
}

/** Set a new password and sign the user out everywhere. */
export async function setPassword(db: DbOrTx, email: string, password: string, actor: Actor): Promise<User> {
  const check = passwordSchema.safeParse(password);
  if (!check.success)
    throw new ValidationError("The password was not changed", { password: check.error.issues.map((i) => i.message) });
  const user = await findUserByEmail(db, email);
  if (!user) throw new NotFoundError(`No user with email ${email}`);
  await db
    .update(users)
    .set({ passwordHash: await hashPassword(password) })
    .where(eq(users.id, user.id));
  await db.execute(sql`update sessions set revoked_at = now() where user_id = ${user.id} and revoked_at is null`);
  await recordAudit(db, actor, { action: "user.password_reset", entityType: "user", entityId: user.id });
  return toUser({ ...user, disabledAt: null, createdAt: new Date() });
}
