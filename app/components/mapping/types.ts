// What the mapping editor page hands its components (plain, serialisable data).
import type { PreviewResult } from "~/mapping/preview.server";
import type { TargetField, TargetId } from "~/mapping/targets";
import type { StoredCase } from "./model";

export interface MappingView {
  slug: string;
  name: string;
  source: { connector: string; object: string; description?: string };
  target: TargetId;
  targetLabel: string;
  activeVersion: number | null;
  latestVersion: number | null;
  hasDraft: boolean;
  usedBy: string[];
}

export interface VersionView {
  id: string;
  version: number;
  status: "draft" | "published";
  publishedAt: string | null;
  createdAt: string;
  active: boolean;
  expression: string;
  cases: StoredCase[];
}

export interface DiffView {
  from: number;
  to: number;
  text: string | null;
  error: string | null;
}

export interface EditorData {
  mapping: MappingView;
  targetFields: TargetField[];
  versions: VersionView[];
  /** What the editor opens: the draft, else the active version, else the latest. */
  base: VersionView | null;
  canEdit: boolean;
  role: string;
  editorRoles: string[];
  diff: DiffView | null;
}

/** The preview route's answer. */
export type PreviewAnswer = PreviewResult | { kind: "input-error"; message: string } | { kind: "failed"; message: string };

/** One case's result from the test-cases route. */
export interface CaseRun {
  name: string;
  passed: boolean;
  problem?: string;
  output?: unknown;
  errors?: Record<string, string[]> | null;
  hints: string[];
}

export type CasesAnswer = { kind: "results"; results: CaseRun[] } | { kind: "failed"; message: string };

/** Dates as the console shows them (UTC, to the minute), the same on server and browser. */
export const when = (iso: string | null) => (iso ? `${iso.slice(0, 16).replace("T", " ")} UTC` : "–");
