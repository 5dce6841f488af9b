// Outbound webhook settings, parsed once from the environment by app/config.server.ts.
// Plain module (no server imports) so config.server.ts can build it.

export interface WebhooksOutConfig {
  /** Accept http:// endpoint URLs (HTTPS is required otherwise). */
  allowHttp: boolean;
  /** IPs/CIDRs let through the SSRF guard, e.g. "127.0.0.1/32" for the sandbox's own receivers. */
  ssrfAllow: string[];
  /** Milliseconds before attempt n+1 (index 0 = the first attempt); its length is the number of attempts. */
  retryScheduleMs: number[];
  /** ± fraction of each delay, so endpoints recovering from an outage are not hit by every retry at once. */
  jitter: number;
  /** An endpoint whose attempts all failed for this long is disabled. */
  disableAfterMs: number;
  connectTimeoutMs: number;
  /** Time allowed for the receiver's answer (headers and body). */
  responseTimeoutMs: number;
  /** Bytes of the receiver's answer kept in webhook_attempts. */
  responseExcerptBytes: number;
  /** Retries due within this many milliseconds are waited for in the running job rather than rescheduled. */
  inlineWaitMs: number;
  /** WEBHOOK_TIME_SCALE: every delay above is already multiplied by it; other waits (wedding-day retries) use it too. */
  timeScale: number;
}

/** Svix's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const SVIX_SCHEDULE_SECONDS = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];

export interface WebhooksOutEnv {
  allowHttp?: boolean;
  ssrfAllow?: string;
  retrySchedule?: string;
  timeScale?: number;
  disableAfterHours?: number;
}

export function webhooksOutConfig(mode: "sandbox" | "production", env: WebhooksOutEnv): WebhooksOutConfig {
  const scale = env.timeScale ?? 1;
  const seconds = env.retrySchedule ? env.retrySchedule.split(",").map((s) => Number(s.trim())) : SVIX_SCHEDULE_SECONDS;
  const allow = env.ssrfAllow ?? (mode === "sandbox" ? "127.0.0.1/32,::1/128" : "");
  return {
    allowHttp: env.allowHttp ?? mode === "sandbox",
    ssrfAllow: allow
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    retryScheduleMs: seconds.map((s) => Math.round(s * 1000 * scale)),
    jitter: 0.1,
    disableAfterMs: Math.round((env.disableAfterHours ?? 120) * 3_600_000 * scale),
    connectTimeoutMs: 5_000,
    responseTimeoutMs: 15_000,
    responseExcerptBytes: 4_096,
    inlineWaitMs: 1_000,
    timeScale: scale,
  };
}
