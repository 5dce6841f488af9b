// The connector catalog: every provider's manifest, as data.
import type { ConnectorManifest } from "./types";
import { manifest as googleCalendar } from "./google-calendar/manifest";
import { manifest as outlookCalendar } from "./outlook-calendar/manifest";
import { manifest as appleCalendar } from "./apple-calendar/manifest";
import { manifest as icalFeed } from "./ical-feed/manifest";
import { manifest as tave } from "./tave/manifest";
import { manifest as honeybook } from "./honeybook/manifest";
import { manifest as seventeenHats } from "./seventeen-hats/manifest";
import { manifest as lightblue } from "./lightblue/manifest";
import { manifest as resend } from "./resend/manifest";
import { manifest as sendgrid } from "./sendgrid/manifest";
import { manifest as ses } from "./ses/manifest";
import { manifest as twilio } from "./twilio/manifest";

export const CATALOG: readonly ConnectorManifest[] = [
  googleCalendar,
  outlookCalendar,
  appleCalendar,
  icalFeed,
  tave,
  honeybook,
  seventeenHats,
  lightblue,
  resend,
  sendgrid,
  ses,
  twilio,
];

export function findConnector(id: string): ConnectorManifest | undefined {
  return CATALOG.find((c) => c.id === id);
}
