// Test a 17hats API key: GET /api/v1/account answers which business it belongs to.
import type { CredentialTest } from "../credentials.server";
import { seventeenHatsAccount, seventeenHatsApiBase } from "./import.server";

export const testSeventeenHats: CredentialTest = async (values, ctx) => {
  if (!ctx) return { ok: false, message: "Save the key to test it: saving tests it against 17hats first." };
  const { base } = await seventeenHatsApiBase(ctx);
  try {
    const account = await seventeenHatsAccount(base, values.apiKey!);
    if (!account)
      return { ok: false, message: "17hats refused that API key. Copy it again from 17hats → Settings → Integrations." };
    return { ok: true, message: `Connected to ${account.label}.`, accountLabel: account.label };
  } catch (err) {
    return {
      ok: false,
      message: `17hats could not be reached (${(err instanceof Error ? err.message : String(err)).slice(0, 200)}).`,
    };
  }
};
