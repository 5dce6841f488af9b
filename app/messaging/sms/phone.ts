// Phone numbers to E.164, the one form the hub stores, compares (opt-outs,
// suppressions, preferences) and gives Twilio. "max" metadata checks the
// number against the country's real numbering plan, not just its length, so a
// typo is refused here with a clear reason instead of costing a Twilio call.
import { parsePhoneNumberWithError, ParseError, type CountryCode } from "libphonenumber-js/max";
import { getCountries } from "libphonenumber-js/max";

export type PhoneResult = { ok: true; e164: string; country: string | undefined } | { ok: false; error: string };

const COUNTRIES = new Set<string>(getCountries());

export function isCountryCode(value: string): value is CountryCode {
  return COUNTRIES.has(value);
}

const REASONS: Record<string, string> = {
  INVALID_COUNTRY: "has no country code and no default country applies (start it with + and the country code)",
  NOT_A_NUMBER: "is not a phone number",
  TOO_SHORT: "is too short",
  TOO_LONG: "is too long",
  INVALID_LENGTH: "has the wrong number of digits",
};

/**
 * `defaultRegion` (ISO 3166 alpha-2, e.g. "GB") applies to numbers written
 * nationally ("07700 900123"); a number starting with + or 00 keeps its own.
 */
export function normalizePhone(input: string, defaultRegion?: string): PhoneResult {
  const text = input.trim();
  if (!text) return { ok: false, error: "The phone number is empty." };
  const region =
    defaultRegion && isCountryCode(defaultRegion.toUpperCase()) ? (defaultRegion.toUpperCase() as CountryCode) : undefined;
  try {
    const parsed = parsePhoneNumberWithError(text, region ? { defaultCountry: region } : undefined);
    if (!parsed.isValid())
      return {
        ok: false,
        error: `The phone number "${text}" is not a valid number${parsed.country ? ` in ${parsed.country}` : ""}.`,
      };
    return { ok: true, e164: parsed.number, country: parsed.country };
  } catch (err) {
    const reason = err instanceof ParseError ? (REASONS[err.message] ?? err.message) : "could not be read";
    return { ok: false, error: `The phone number "${text}" ${reason}.` };
  }
}

/** Strict E.164 as Twilio writes it (for values that must already be normalised). */
export const E164_PATTERN = /^\+[1-9]\d{6,14}$/;
