// Test a Tave API key: GET /api/v2/account answers who the key belongs to.
import { z } from "zod";
import type { CredentialTest } from "../credentials.server";
import { importSettings, resolveApiBase } from "../../import/provider-http.server";
import { TAVE_API_BASE } from "./import.server";
import { manifest } from "./manifest";

const accountSchema = z.object({ id: z.union([z.string(), z.number()]), name: z.string().nullish() });

export const testTave: CredentialTest = async (values, ctx) => {
  if (!ctx) return { ok: false, message: "Save the key to test it: saving tests it against Tave first." };
  const base = resolveApiBase(ctx, manifest.id, await importSettings(ctx, manifest.id), "tave", TAVE_API_BASE);
  try {
    const res = await fetch(`${base}/api/v2/account`, {
      headers: { "X-Api-Key": values.apiKey!, Accept: "application/json" },
      signal: AbortSignal.timeout(15_000),
    });
    if (res.status === 401 || res.status === 403)
      return { ok: false, message: "Tave refused that API key. Copy it again from Tave → Settings → API & Webhooks." };
    if (!res.ok) return { ok: false, message: `Tave answered HTTP ${res.status}; try again in a minute.` };
    const account = accountSchema.parse(await res.json());
    const label = account.name || `Tave studio ${account.id}`;
    return { ok: true, message: `Connected to ${label}.`, accountLabel: label };
  } catch (err) {
    return {
      ok: false,
      message: `Tave could not be reached (${(err instanceof Error ? err.message : String(err)).slice(0, 200)}).`,
    };
  }
};
