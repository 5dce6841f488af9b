// A webhook receiver for the sandbox, tests and benches: records every request
// it gets, verifies Standard Webhooks signatures with the `standardwebhooks`
// library (as a vendor's receiver would), and can be told to fail — N times,
// always, only for one couple, with any status (500, 410 …), or by hanging.
import express from "express";
import { Webhook } from "standardwebhooks";
import { z } from "zod";
import type { SimulatorDefinition } from "../harness.js";

export interface ReceivedDelivery {
  path: string;
  webhookId: string | null;
  timestamp: string | null;
  signature: string | null;
  body: string;
  /** data.coupleId / data.seq of a hub event body, for ordering checks. */
  coupleId: string | null;
  seq: number | null;
  /** Index of every configured secret that verified this request (empty: none did). */
  verifiedWith: number[];
  /** What the receiver answered; null when it hung. */
  answered: number | null;
  at: string;
}

export const failRuleSchema = z.strictObject({
  /** Status to answer (default 500); ignored when hang. */
  status: z.number().int().min(200).max(599).default(500),
  /** How many matching requests fail; omitted = always. */
  times: z.number().int().min(1).optional(),
  /** Only requests for this couple fail. */
  coupleId: z.string().min(1).optional(),
  /** Only requests to this path fail (e.g. "/crm"). */
  path: z.string().startsWith("/").optional(),
  /** Never answer (the socket stays open until the sender gives up or the simulator closes). */
  hang: z.boolean().default(false),
});
export type FailRule = z.input<typeof failRuleSchema>;
type Rule = z.infer<typeof failRuleSchema> & { left: number };

export interface WebhookReceiver {
  received(filter?: { coupleId?: string; path?: string }): ReceivedDelivery[];
  /** Requests answered 2xx. */
  accepted(filter?: { coupleId?: string; path?: string }): ReceivedDelivery[];
  /** Secrets to verify with: for one path, or (no path) for every path without its own. */
  setSecrets(secrets: string[], path?: string): void;
  fail(rule: FailRule): void;
  clearFailures(): void;
  clear(): void;
}

export interface WebhookReceiverDefinition extends SimulatorDefinition {
  receiver: WebhookReceiver;
}

const secretsSchema = z.strictObject({
  secrets: z.array(z.string().startsWith("whsec_")).max(10),
  path: z.string().startsWith("/").optional(),
});

export function createWebhookReceiverSimulator(
  opts: { name?: string; secrets?: string[]; keepBodies?: boolean } = {},
): WebhookReceiverDefinition {
  let deliveries: ReceivedDelivery[] = [];
  let rules: Rule[] = [];
  const verifiers = new Map<string, Webhook[]>([["*", (opts.secrets ?? []).map((s) => new Webhook(s))]]);
  const verifiersFor = (path: string) => verifiers.get(path) ?? verifiers.get("*") ?? [];
  const keepBodies = opts.keepBodies ?? true;

  const matches = (d: ReceivedDelivery, f?: { coupleId?: string; path?: string }) =>
    (!f?.coupleId || d.coupleId === f.coupleId) && (!f?.path || d.path === f.path);

  const receiver: WebhookReceiver = {
    received: (f) => deliveries.filter((d) => matches(d, f)),
    accepted: (f) => deliveries.filter((d) => matches(d, f) && d.answered !== null && d.answered < 300),
    setSecrets(secrets, path) {
      verifiers.set(
        path ?? "*",
        secrets.map((s) => new Webhook(s)),
      );
    },
    fail(rule) {
      const r = failRuleSchema.parse(rule);
      rules.push({ ...r, left: r.times ?? Number.POSITIVE_INFINITY });
    },
    clearFailures() {
      rules = [];
    },
    clear() {
      deliveries = [];
      rules = [];
    },
  };

  return {
    name: opts.name ?? "webhook-receiver",
    receiver,
    routes(router) {
      router.post("*", express.text({ type: () => true, limit: "1mb" }), (req, res) => {
        const body = typeof req.body === "string" ? req.body : "";
        const header = (n: string) => {
          const v = req.headers[n];
          return typeof v === "string" ? v : null;
        };
        let coupleId: string | null = null;
        let seq: number | null = null;
        try {
          const parsed = z.object({ data: z.object({ coupleId: z.string(), seq: z.number() }) }).safeParse(JSON.parse(body));
          if (parsed.success) ({ coupleId, seq } = parsed.data.data);
        } catch {
          // Not JSON: recorded as is.
        }
        const hdrs = {
          "webhook-id": header("webhook-id") ?? "",
          "webhook-timestamp": header("webhook-timestamp") ?? "",
          "webhook-signature": header("webhook-signature") ?? "",
        };
        const verifiedWith: number[] = [];
        const pathVerifiers = verifiersFor(req.path);
        pathVerifiers.forEach((v, i) => {
          try {
            v.verify(body, hdrs);
            verifiedWith.push(i);
          } catch {
            // Not signed with this secret.
          }
        });
        const record: ReceivedDelivery = {
          path: req.path,
          webhookId: header("webhook-id"),
          timestamp: header("webhook-timestamp"),
          signature: header("webhook-signature"),
          body: keepBodies ? body : "",
          coupleId,
          seq,
          verifiedWith,
          answered: null,
          at: new Date().toISOString(),
        };
        deliveries.push(record);
        const rule = rules.find(
          (r) => r.left > 0 && (!r.coupleId || r.coupleId === coupleId) && (!r.path || r.path === req.path),
        );
        if (rule) {
          rule.left--;
          if (rule.hang) return;
          record.answered = rule.status;
          res.status(rule.status).json({ error: `Injected failure (${rule.status})` });
          return;
        }
        // With secrets configured, refuse what does not verify, as a real receiver must.
        record.answered = pathVerifiers.length && verifiedWith.length === 0 ? 401 : 204;
        res.status(record.answered).end();
      });
    },
    controlRoutes(router) {
      router.get("/receiver/deliveries", (req, res) => {
        const coupleId = typeof req.query.coupleId === "string" ? req.query.coupleId : undefined;
        const list = receiver.received({ coupleId });
        res.json({ count: list.length, verified: list.filter((d) => d.verifiedWith.length > 0).length, items: list.slice(-200) });
      });
      router.delete("/receiver/deliveries", (_req, res) => {
        deliveries = [];
        res.json({ ok: true });
      });
      router.put("/receiver/secrets", (req, res) => {
        const parsed = secretsSchema.safeParse(req.body);
        if (!parsed.success) {
          res.status(400).json({ error: { code: 400, message: parsed.error.issues.map((i) => i.message).join("; ") } });
          return;
        }
        receiver.setSecrets(parsed.data.secrets, parsed.data.path);
        res.json({ ok: true, secrets: parsed.data.secrets.length });
      });
      router.post("/receiver/failures", (req, res) => {
        const parsed = failRuleSchema.safeParse(req.body);
        if (!parsed.success) {
          res.status(400).json({
            error: { code: 400, message: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") },
          });
          return;
        }
        receiver.fail(parsed.data);
        res.json({ ok: true, rules: rules.length });
      });
      router.delete("/receiver/failures", (_req, res) => {
        receiver.clearFailures();
        res.json({ ok: true });
      });
    },
  };
}
