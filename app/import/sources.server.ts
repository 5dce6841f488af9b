// Which import source serves which connector: one factory per connector id,
// each in app/connectors/<id>/import.server.ts. The engine (engine.server.ts)
// looks sources up here, so adding a CRM is adding a line, not editing the engine.
import type { ImportSourceFactory } from "./source";
import { taveImportSource } from "../connectors/tave/import.server";
import { honeybookImportSource } from "../connectors/honeybook/import.server";
import { seventeenHatsImportSource } from "../connectors/seventeen-hats/import.server";
import { lightblueImportSource } from "../connectors/lightblue/import.server";

export const IMPORT_SOURCES: Readonly<Record<string, ImportSourceFactory>> = Object.freeze({
  tave: taveImportSource,
  honeybook: honeybookImportSource,
  "seventeen-hats": seventeenHatsImportSource,
  lightblue: lightblueImportSource,
});

/** Whether a connector's clients can be imported (the console shows "Import" only then). */
export const canImportFrom = (connectorId: string): boolean => Object.hasOwn(IMPORT_SOURCES, connectorId);
