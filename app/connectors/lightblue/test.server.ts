// Test a LightBlue sign-in: sign in to the portal as the import would and read
// the first page of the client list.
import type { CredentialTest } from "../credentials.server";
import { LightBlueSignInError, probeLightBlue } from "./import.server";

export const testLightBlue: CredentialTest = async (values, ctx) => {
  if (!ctx) return { ok: false, message: "Save the sign-in to test it: saving signs in to LightBlue first." };
  try {
    const { clients } = await probeLightBlue(ctx, values);
    return {
      ok: true,
      message: clients === null ? "Signed in to LightBlue." : `Signed in to LightBlue; ${clients} client(s) found.`,
      accountLabel: values.username!,
    };
  } catch (err) {
    if (err instanceof LightBlueSignInError) return { ok: false, message: err.message };
    return {
      ok: false,
      message: `LightBlue's portal could not be reached or did not look as expected (${(err instanceof Error ? err.message : String(err)).slice(0, 200)}).`,
    };
  }
};
