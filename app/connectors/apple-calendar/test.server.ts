// Test an iCloud/CalDAV sign-in: log in with tsdav (discovers the principal and
// calendar home) and list the calendars.
import { DAVClient } from "tsdav";
import type { CredentialTest } from "../credentials.server";

export const testAppleCalendar: CredentialTest = async (values) => {
  const client = new DAVClient({
    serverUrl: values.serverUrl!,
    credentials: { username: values.username!, password: values.password! },
    authMethod: "Basic",
    defaultAccountType: "caldav",
    fetchOptions: { signal: AbortSignal.timeout(15_000) },
  });
  try {
    await client.login();
    const calendars = await client.fetchCalendars();
    return { ok: true, message: `Signed in; ${calendars.length} calendar(s) found.`, accountLabel: values.username! };
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const auth = /401|403|unauthori[sz]ed|invalid credentials/i.test(text);
    return {
      ok: false,
      message: auth
        ? "The CalDAV server refused that Apple ID and app-specific password. Check both (an app-specific password looks like abcd-efgh-ijkl-mnop)."
        : `The CalDAV server could not be reached or did not answer like a calendar server (${text.slice(0, 200)}). Check the server address.`,
    };
  }
};
