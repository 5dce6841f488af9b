// SSRF guard for outbound webhooks. Endpoint URLs are chosen by vendors, so the
// hub must never be made to call its own network: loopback, private, link-local
// (cloud metadata at 169.254.169.254), unspecified, CGNAT, multicast and reserved
// addresses are refused. The check runs at registration AND at connect time,
// inside the socket's own DNS lookup, so a name that resolves to a public address
// when registered and to 10.x later (DNS rebinding) still fails.
import dns from "node:dns";
import net from "node:net";
import { Agent, buildConnector } from "undici";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
/** Resolve a host name to every address (tests inject one to simulate any DNS answer). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const rows = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return rows.map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));
};

export class SsrfRefusedError extends Error {
  readonly code = "E_SSRF_REFUSED";
  constructor(message: string) {
    super(message);
    this.name = "SsrfRefusedError";
  }
}

export interface SsrfPolicy {
  allowHttp: boolean;
  /** IPs/CIDRs let through despite the rules (the sandbox's 127.0.0.1). */
  allow: string[];
}

const BLOCKED_V4: [string, number, string][] = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "carrier-grade NAT"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local (cloud metadata)"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "IETF protocol assignments"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmarking"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];
const BLOCKED_V6: [string, number, string][] = [
  ["::", 128, "unspecified"],
  ["::1", 128, "loopback"],
  ["fc00::", 7, "private (unique local)"],
  ["fe80::", 10, "link-local"],
  ["ff00::", 8, "multicast"],
];

const blocked = new Map<string, net.BlockList>();
for (const [addr, prefix, reason] of BLOCKED_V4) {
  const list = blocked.get(reason) ?? new net.BlockList();
  list.addSubnet(addr, prefix, "ipv4");
  blocked.set(reason, list);
}
for (const [addr, prefix, reason] of BLOCKED_V6) {
  const list = blocked.get(reason) ?? new net.BlockList();
  list.addSubnet(addr, prefix, "ipv6");
  blocked.set(reason, list);
}

/** IPv4 hidden inside IPv6 (::ffff:10.0.0.1, ::ffff:a00:1) is judged as the IPv4 it is. */
function unwrapMapped(ip: string): { address: string; family: 4 | 6 } {
  const lower = ip.toLowerCase();
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return { address: dotted[1]!, family: 4 };
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return { address: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, family: 4 };
  }
  return { address: ip, family: net.isIPv4(ip) ? 4 : 6 };
}

export interface CompiledPolicy extends SsrfPolicy {
  allowList: net.BlockList;
}

export function compilePolicy(policy: SsrfPolicy): CompiledPolicy {
  const allowList = new net.BlockList();
  for (const entry of policy.allow) {
    const [addr, prefixText] = entry.split("/");
    const family = addr && net.isIPv6(addr) ? "ipv6" : "ipv4";
    if (!addr || !net.isIP(addr)) throw new Error(`WEBHOOK_SSRF_ALLOW: "${entry}" is not an IP address or CIDR`);
    const prefix = prefixText === undefined ? (family === "ipv6" ? 128 : 32) : Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === "ipv6" ? 128 : 32))
      throw new Error(`WEBHOOK_SSRF_ALLOW: "${entry}" has an invalid prefix length`);
    allowList.addSubnet(addr, prefix, family);
  }
  return { ...policy, allowList };
}

/** Why an address may not be called, or null when it may. */
export function refusalReason(ip: string, policy: CompiledPolicy): string | null {
  const raw = ip.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!net.isIP(raw)) return `"${ip}" is not an IP address`;
  const { address, family } = unwrapMapped(raw);
  const type = family === 4 ? "ipv4" : "ipv6";
  if (policy.allowList.check(address, type) || (address !== raw && policy.allowList.check(raw, "ipv6"))) return null;
  for (const [reason, list] of blocked) if (list.check(address, type)) return `${address} is ${reason}`;
  return null;
}

function assertAddresses(hostname: string, addresses: ResolvedAddress[], policy: CompiledPolicy): void {
  if (addresses.length === 0) throw new SsrfRefusedError(`${hostname} does not resolve`);
  // Every answer must be acceptable: the socket may pick any of them.
  for (const a of addresses) {
    const reason = refusalReason(a.address, policy);
    if (reason) throw new SsrfRefusedError(`Refused: ${hostname} resolves to ${reason}`);
  }
}

/** Registration-time check: scheme, credentials, and what the host resolves to now. */
export async function checkEndpointUrl(raw: string, policy: CompiledPolicy, resolve: Resolver = systemResolver): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SsrfRefusedError("Not a valid URL");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.allowHttp))
    throw new SsrfRefusedError(policy.allowHttp ? "The URL must use http or https" : "The URL must use https");
  if (url.username || url.password) throw new SsrfRefusedError("The URL must not contain credentials");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (net.isIP(host)) {
    const reason = refusalReason(host, policy);
    if (reason) throw new SsrfRefusedError(`Refused: ${reason}`);
    return url;
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolve(host);
  } catch {
    throw new SsrfRefusedError(`${host} does not resolve`);
  }
  assertAddresses(host, addresses, policy);
  return url;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/** A net/tls `lookup` that resolves with `resolve` and refuses forbidden answers before the socket connects. */
export function guardedLookup(policy: CompiledPolicy, resolve: Resolver = systemResolver) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    resolve(hostname).then(
      (addresses) => {
        try {
          assertAddresses(hostname, addresses, policy);
        } catch (err) {
          callback(err as SsrfRefusedError, "", 0);
          return;
        }
        const wanted =
          options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        if (options.all) callback(null, wanted);
        else if (wanted[0]) callback(null, wanted[0].address, wanted[0].family);
        else
          callback(
            Object.assign(new Error(`${hostname} has no IPv${String(options.family)} address`), { code: "ENOTFOUND" }),
            "",
            0,
          );
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), "", 0),
    );
  };
}

export interface GuardedAgentOptions {
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  resolve?: Resolver;
}

/**
 * The dispatcher every outbound webhook goes through. IP-literal hosts skip DNS
 * (so `lookup` is never called for them) and are checked here; names are checked
 * in the lookup. undici follows no redirects unless asked, and we never ask.
 */
export function createGuardedAgent(policy: CompiledPolicy, opts: GuardedAgentOptions): Agent {
  const base = buildConnector({ timeout: opts.connectTimeoutMs, lookup: guardedLookup(policy, opts.resolve) });
  const connect: buildConnector.connector = (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, "");
    if (net.isIP(host)) {
      const reason = refusalReason(host, policy);
      if (reason) {
        callback(new SsrfRefusedError(`Refused: ${reason}`), null);
        return;
      }
    }
    base(options, callback);
  };
  return new Agent({
    connect,
    headersTimeout: opts.responseTimeoutMs,
    bodyTimeout: opts.responseTimeoutMs,
    keepAliveTimeout: 4_000,
  });
}
