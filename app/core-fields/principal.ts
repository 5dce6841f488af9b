// Who is acting, whichever door they came through (API token, console
// session, socket). Access rules and write permissions are decided from this.
import type { Writer } from "./schema";

export type Source = "wedme" | "wedsync" | "console" | "import" | "webhook";

/** `via` says whether `id` is an API token's id, a user's, or the hub's own (jobs, imports). */
export type Principal = { id: string; label: string; via: "token" | "session" | "system" } & (
  { type: "staff" } | { type: "app"; app: "wedme" | "wedsync" } | { type: "supplier"; supplierId: string }
);

export function writerFor(p: Principal): Writer {
  if (p.type === "staff") return "staff";
  if (p.type === "app") return p.app === "wedme" ? "couple" : "supplier";
  return "supplier";
}

export function sourceFor(p: Principal): Source {
  if (p.type === "app") return p.app;
  if (p.type === "supplier") return "wedsync";
  return "console";
}

export function principalFromToken(t: {
  tokenId: string;
  name: string;
  kind: "wedme" | "wedsync" | "supplier" | "ops";
  supplierId: string | null;
}): Principal {
  const base = { id: t.tokenId, label: `token:${t.name}`, via: "token" as const };
  if (t.kind === "ops") return { ...base, type: "staff" };
  if (t.kind === "supplier" && t.supplierId) return { ...base, type: "supplier", supplierId: t.supplierId };
  return { ...base, type: "app", app: t.kind === "wedme" ? "wedme" : "wedsync" };
}

export function principalFromUser(u: { id: string; email: string; role: string; supplierId: string | null }): Principal {
  const base = { id: u.id, label: u.email, via: "session" as const };
  if (u.role === "vendor" && u.supplierId) return { ...base, type: "supplier", supplierId: u.supplierId };
  return { ...base, type: "staff" };
}

/** The hub itself acting for a job (imports, webhooks): writes as `writer` would. */
export function systemPrincipal(label: string, writer: Writer): Principal {
  const base = { id: "system", label, via: "system" as const };
  if (writer === "couple") return { ...base, type: "app", app: "wedme" };
  if (writer === "supplier") return { ...base, type: "app", app: "wedsync" };
  return { ...base, type: "staff" };
}
