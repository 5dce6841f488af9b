// Twilio's Programmable Messaging REST API as far as the hub uses it:
//   POST /2010-04-01/Accounts/{AccountSid}/Messages.json  (Basic auth, form body)
//   GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json
// with Twilio's JSON error bodies and codes, status callbacks POSTed to the
// message's StatusCallback (sent, then delivered or undelivered) and inbound
// messages POSTed to the number's SmsUrl, both signed with X-Twilio-Signature.
// Like Twilio's default opt-out handling, an inbound STOP blocks further sends
// from that number to the sender (21610) until START.
import crypto from "node:crypto";
import express from "express";
import type { Request, Response } from "express";
import { z } from "zod";
import { SegmentedMessage } from "sms-segments-calculator";
import type { SimulatorDefinition } from "../harness.js";
import { twilioSignature } from "./signature.js";
import { newestFirst } from "../outbox-listing.js";

export interface TwilioAccount {
  accountSid: string;
  authToken: string;
  /** The account's SMS-capable numbers (E.164); only these may be "From". */
  numbers: string[];
}

/** The sandbox's account: the hub's sandbox settings use it. */
export const TWILIO_SANDBOX_ACCOUNT: Readonly<TwilioAccount & { from: string }> = Object.freeze({
  accountSid: "AC00000000000000000000000000000001",
  authToken: "sandbox-twilio-auth-token-00000001",
  numbers: ["+15005550006"],
  from: "+15005550006",
});

export type SimulatedSmsStatus = "queued" | "sent" | "delivered" | "undelivered" | "failed";

export interface SimulatedSms {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  body: string;
  numSegments: number;
  encoding: string;
  status: SimulatedSmsStatus;
  statusCallback: string | null;
  createdAt: Date;
}

export interface SimulatedWebhook {
  kind: "status" | "inbound";
  url: string;
  params: Record<string, string>;
  status: number | null;
  responseBody: string;
}

export interface TwilioSimulatorOptions {
  accounts?: TwilioAccount[];
  /** Delay between accepting a message and each status callback (default 20 ms). */
  callbackDelayMs?: number;
}

export interface TwilioSimulatorState {
  messages(): SimulatedSms[];
  webhooks(): SimulatedWebhook[];
  /** Where inbound messages to `number` are POSTed (Twilio's phone number SmsUrl). */
  setSmsUrl(number: string, url: string | null): void;
  /** A phone replies to one of the account's numbers; resolves with the webhook's answer. */
  sendInbound(input: { from: string; to: string; body: string }): Promise<SimulatedWebhook>;
  /** Resolves once every scheduled status callback has been delivered. */
  settled(): Promise<void>;
  reset(): void;
}

export type TwilioSimulatorDefinition = SimulatorDefinition & { twilio: TwilioSimulatorState };

const API_VERSION = "2010-04-01";
const E164 = /^\+[1-9]\d{6,14}$/;
// Twilio's documented test numbers: 21211 for an invalid To, 21614 for a number that cannot receive SMS.
const MAGIC_INVALID = "+15005550001";
const MAGIC_NOT_MOBILE = "+15005550009";
/** Accepted, then reported "undelivered" (30003 Unreachable destination handset). */
export const TWILIO_SIM_UNDELIVERABLE = "+15005550004";

// Twilio's default opt-out keywords (Advanced Opt-Out off): case-insensitive, whole body.
const STOP_WORDS = new Set(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"]);
const START_WORDS = new Set(["START", "YES", "UNSTOP", "OPTIN"]);
const HELP_WORDS = new Set(["HELP", "INFO"]);

const sendSchema = z.object({
  To: z.string().optional(),
  From: z.string().optional(),
  Body: z.string().optional(),
  StatusCallback: z.string().optional(),
  MessagingServiceSid: z.string().optional(),
});

function sid(prefix: string): string {
  return prefix + crypto.randomBytes(16).toString("hex");
}

function twilioError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

function resource(m: SimulatedSms) {
  const date = m.createdAt.toUTCString().replace("GMT", "+0000");
  return {
    account_sid: m.accountSid,
    api_version: API_VERSION,
    body: m.body,
    date_created: date,
    date_sent: m.status === "queued" ? null : date,
    date_updated: date,
    direction: "outbound-api",
    error_code: m.status === "undelivered" ? 30003 : null,
    error_message: m.status === "undelivered" ? "Unreachable destination handset" : null,
    from: m.from,
    messaging_service_sid: null,
    num_media: "0",
    num_segments: String(m.numSegments),
    price: null,
    price_unit: "USD",
    sid: m.sid,
    status: m.status,
    subresource_uris: { media: `/${API_VERSION}/Accounts/${m.accountSid}/Messages/${m.sid}/Media.json` },
    to: m.to,
    uri: `/${API_VERSION}/Accounts/${m.accountSid}/Messages/${m.sid}.json`,
  };
}

export function createTwilioSimulator(opts: TwilioSimulatorOptions = {}): TwilioSimulatorDefinition {
  const accounts = new Map((opts.accounts ?? [TWILIO_SANDBOX_ACCOUNT]).map((a) => [a.accountSid, a]));
  const delay = opts.callbackDelayMs ?? 20;
  const messages = new Map<string, SimulatedSms>();
  const webhooks: SimulatedWebhook[] = [];
  const smsUrls = new Map<string, string>();
  /** "from|to" pairs blocked by an inbound STOP (from = the phone that sent STOP). */
  const unsubscribed = new Set<string>();
  const pending = new Set<Promise<void>>();

  function accountFor(req: Request): TwilioAccount | null {
    const header = req.headers.authorization ?? "";
    const m = /^Basic (.+)$/i.exec(header);
    if (!m) return null;
    const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const user = decoded.slice(0, colon);
    const pass = decoded.slice(colon + 1);
    const account = accounts.get(user);
    if (!account || colon < 0) return null;
    const a = Buffer.from(pass);
    const b = Buffer.from(account.authToken);
    return a.length === b.length && crypto.timingSafeEqual(a, b) && req.params.accountSid === user ? account : null;
  }

  async function post(kind: SimulatedWebhook["kind"], url: string, params: Record<string, string>, authToken: string) {
    const record: SimulatedWebhook = { kind, url, params, status: null, responseBody: "" };
    webhooks.push(record);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
          "X-Twilio-Signature": twilioSignature(authToken, url, params),
          "I-Twilio-Idempotency-Token": crypto.randomUUID(),
          "User-Agent": "TwilioProxy/1.1",
        },
        body: new URLSearchParams(params),
        signal: AbortSignal.timeout(15_000),
      });
      record.status = res.status;
      record.responseBody = await res.text();
    } catch (err) {
      record.responseBody = err instanceof Error ? err.message : String(err);
    }
    return record;
  }

  function scheduleCallbacks(m: SimulatedSms, account: TwilioAccount): void {
    if (!m.statusCallback) return;
    const url = m.statusCallback;
    const final: SimulatedSmsStatus = m.to === TWILIO_SIM_UNDELIVERABLE ? "undelivered" : "delivered";
    const run = (async () => {
      for (const status of ["sent", final] as const) {
        await new Promise((r) => setTimeout(r, delay));
        m.status = status;
        const params: Record<string, string> = {
          AccountSid: m.accountSid,
          ApiVersion: API_VERSION,
          From: m.from,
          MessageSid: m.sid,
          MessageStatus: status,
          SmsSid: m.sid,
          SmsStatus: status,
          To: m.to,
        };
        if (status === "undelivered") params.ErrorCode = "30003";
        await post("status", url, params, account.authToken);
      }
    })();
    pending.add(run);
    void run.finally(() => pending.delete(run));
  }

  const state: TwilioSimulatorState = {
    messages: () => [...messages.values()],
    webhooks: () => [...webhooks],
    setSmsUrl(number, url) {
      if (url) smsUrls.set(number, url);
      else smsUrls.delete(number);
    },
    async sendInbound({ from, to, body }) {
      const account = [...accounts.values()].find((a) => a.numbers.includes(to));
      if (!account) throw new Error(`${to} is not a number of any simulated account`);
      const url = smsUrls.get(to);
      if (!url) throw new Error(`No SmsUrl configured for ${to}`);
      const word = body.trim().toUpperCase();
      if (STOP_WORDS.has(word)) unsubscribed.add(`${from}|${to}`);
      if (START_WORDS.has(word)) unsubscribed.delete(`${from}|${to}`);
      const messageSid = sid("SM");
      const params: Record<string, string> = {
        AccountSid: account.accountSid,
        ApiVersion: API_VERSION,
        Body: body,
        From: from,
        MessageSid: messageSid,
        NumMedia: "0",
        NumSegments: String(new SegmentedMessage(body).segmentsCount),
        SmsMessageSid: messageSid,
        SmsSid: messageSid,
        SmsStatus: "received",
        To: to,
      };
      if (STOP_WORDS.has(word)) params.OptOutType = "STOP";
      else if (START_WORDS.has(word)) params.OptOutType = "START";
      else if (HELP_WORDS.has(word)) params.OptOutType = "HELP";
      return post("inbound", url, params, account.authToken);
    },
    async settled() {
      while (pending.size) await Promise.all([...pending]);
    },
    reset() {
      messages.clear();
      webhooks.length = 0;
      unsubscribed.clear();
    },
  };

  return {
    name: "twilio",
    twilio: state,
    routes(router) {
      const form = express.urlencoded({ extended: false, limit: "64kb" });
      router.post(`/${API_VERSION}/Accounts/:accountSid/Messages.json`, form, (req, res) => {
        const account = accountFor(req);
        if (!account) return twilioError(res, 401, 20003, "Authenticate");
        const parsed = sendSchema.safeParse(req.body);
        if (!parsed.success) return twilioError(res, 400, 21602, "Message body is required.");
        const { To, From, Body, StatusCallback } = parsed.data;
        if (!To) return twilioError(res, 400, 21604, "A 'To' phone number is required.");
        if (!From) return twilioError(res, 400, 21603, "A 'From' phone number is required.");
        if (!Body) return twilioError(res, 400, 21602, "Message body is required.");
        if (!E164.test(To) || To === MAGIC_INVALID)
          return twilioError(res, 400, 21211, `The 'To' number ${To} is not a valid phone number.`);
        if (!account.numbers.includes(From))
          return twilioError(
            res,
            400,
            21606,
            `The From phone number ${From} is not a valid, SMS-capable inbound phone number or short code for your account.`,
          );
        if (To === MAGIC_NOT_MOBILE) return twilioError(res, 400, 21614, `'To' number ${To} is not a valid mobile number`);
        if (Body.length > 1600)
          return twilioError(res, 400, 21617, "The concatenated message body exceeds the 1600 character limit.");
        if (StatusCallback !== undefined && !z.url({ protocol: /^https?$/ }).safeParse(StatusCallback).success)
          return twilioError(res, 400, 21609, `The StatusCallback URL ${StatusCallback} is not a valid URL.`);
        if (unsubscribed.has(`${To}|${From}`)) return twilioError(res, 400, 21610, "Attempt to send to unsubscribed recipient");
        const segmented = new SegmentedMessage(Body);
        const m: SimulatedSms = {
          sid: sid("SM"),
          accountSid: account.accountSid,
          from: From,
          to: To,
          body: Body,
          numSegments: segmented.segmentsCount,
          encoding: segmented.encodingName,
          status: "queued",
          statusCallback: StatusCallback ?? null,
          createdAt: new Date(),
        };
        messages.set(m.sid, m);
        res.status(201).json(resource(m));
        scheduleCallbacks(m, account);
      });
      router.get(`/${API_VERSION}/Accounts/:accountSid/Messages/:sid.json`, (req, res) => {
        const account = accountFor(req);
        if (!account) return twilioError(res, 401, 20003, "Authenticate");
        const m = messages.get(String(req.params.sid));
        if (!m || m.accountSid !== account.accountSid)
          return twilioError(res, 404, 20404, `The requested resource ${req.path} was not found`);
        res.json(resource(m));
      });
    },
    controlRoutes(router) {
      router.get("/messages", (_req, res) => {
        res.json({ messages: state.messages() });
      });
      // Newest first, ?limit= (simulators/outbox-listing.ts): the sandbox console's outbox page reads this.
      router.get("/outbox", (req, res) => {
        const { total, items } = newestFirst(state.messages(), req.query.limit);
        res.json({ provider: "twilio", channel: "sms", total, messages: items });
      });
      router.put("/numbers", (req, res) => {
        const body = z.object({ number: z.string().regex(E164), smsUrl: z.url().nullable() }).safeParse(req.body);
        if (!body.success) return twilioError(res, 400, 21502, "number (E.164) and smsUrl (URL or null) are required");
        state.setSmsUrl(body.data.number, body.data.smsUrl);
        res.json({ ok: true });
      });
      router.post("/inbound", (req, res, next) => {
        const body = z
          .object({ from: z.string().regex(E164), to: z.string().regex(E164), body: z.string().min(1).max(1600) })
          .safeParse(req.body);
        if (!body.success) return twilioError(res, 400, 21602, "from, to (E.164) and body are required");
        state.sendInbound(body.data).then((w) => res.json({ status: w.status, response: w.responseBody }), next);
      });
    },
  };
}
