// How many SMS segments Twilio bills a body as. Twilio's own calculator
// (sms-segments-calculator, from TwilioDevEd) implements the rules: GSM-7
// 160 characters alone / 153 per part with a UDH, the GSM extension table
// (^{}\[~]|€) counting twice, UCS-2 70 / 67 per part once any character is
// outside GSM-7, and no surrogate pair (emoji) split across parts.
import { SegmentedMessage } from "sms-segments-calculator";

export interface SegmentCount {
  encoding: "GSM-7" | "UCS-2";
  segments: number;
  /** Characters as the handset shows them (grapheme clusters). */
  characters: number;
  /** Characters outside GSM-7 that forced UCS-2, to show the sender what to change. */
  nonGsmCharacters: string[];
}

export function countSegments(body: string): SegmentCount {
  const m = new SegmentedMessage(body, "auto");
  return {
    encoding: m.encodingName,
    segments: body.length === 0 ? 0 : m.segmentsCount,
    characters: m.numberOfCharacters,
    nonGsmCharacters: [...new Set(m.getNonGsmCharacters())],
  };
}
