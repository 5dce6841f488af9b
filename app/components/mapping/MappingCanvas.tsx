// The canvas, client-only: React Flow measures the DOM, so it is never rendered
// on the server. It is loaded lazily once the page has hydrated.
import { lazy, Suspense } from "react";
import { ClientOnly } from "./ClientOnly";
import type { FlowCanvasProps } from "./FlowCanvas";

const FlowCanvas = lazy(() => import("./FlowCanvas"));

function Placeholder({ text }: { text: string }) {
  return (
    <div className="mf-canvas mf-canvas-placeholder" aria-busy="true">
      <p className="muted">{text}</p>
    </div>
  );
}

export function MappingCanvas(props: FlowCanvasProps) {
  return (
    <ClientOnly fallback={<Placeholder text="The canvas loads in the browser…" />}>
      {() => (
        <Suspense fallback={<Placeholder text="Loading the canvas…" />}>
          <FlowCanvas {...props} />
        </Suspense>
      )}
    </ClientOnly>
  );
}
