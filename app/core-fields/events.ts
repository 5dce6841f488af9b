// The change event: the single source for realtime, webhooks, calendars and audit.
export interface HubEvent {
  id: number;
  coupleId: string;
  /** Gapless per couple. */
  seq: number;
  type: "core_fields.created" | "core_fields.updated" | "vendor_fields.updated";
  changedFields: Record<string, { old: unknown; new: unknown }>;
  /** The core-field version (or, for vendor_fields.updated, the vendor-field version) after the change. */
  version: number;
  source: string;
  actor: string;
  /** The supplier whose own data changed, for vendor_fields.updated. */
  supplierId: string | null;
  occurredAt: string;
}

/** What a realtime client receives: the event and its position in the stream (room) it joined. */
export interface StreamEvent {
  room: string;
  seq: number;
  event: HubEvent;
}

export const coupleRoom = (coupleId: string) => `couple:${coupleId}`;
export const supplierRoom = (supplierId: string) => `supplier:${supplierId}`;
