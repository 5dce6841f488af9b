// The React Flow canvas of the mapping editor: source fields on the left,
// target fields on the right, an edge per mapped target. Browser only: it is
// loaded lazily by MappingCanvas (never rendered on the server).
import { memo, useCallback, useMemo } from "react";
import {
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  type Connection,
  type Edge,
  type IsValidConnection,
  type Node,
  type NodeProps,
} from "@xyflow/react";
import { EXPRESSION_NODE, type CanvasEdge, type SourceRow, type TargetRow } from "./model";

export interface FlowCanvasProps {
  sources: SourceRow[];
  targets: TargetRow[];
  edges: CanvasEdge[];
  /** No connecting or deleting (text-only expression, or a read-only role). */
  readOnly: boolean;
  /** Edges are shown dimmed: the last graph, while the text does not read as one. */
  stale: boolean;
  selected: string | null;
  onSelect: (target: string | null) => void;
  onConnect: (sourcePath: string, targetPath: string) => void;
  onDelete: (targetPath: string) => void;
}

export const ROW = 38;
const NODE_WIDTH = 260;
const TARGET_X = 560;
const EXPR_X = 310;
export const CANVAS_WIDTH = TARGET_X + NODE_WIDTH;

type SourceNode = Node<{ row: SourceRow }, "source">;
type TargetNode = Node<{ row: TargetRow }, "target">;
type ExpressionNode = Node<Record<string, never>, "expression">;
type AnyNode = SourceNode | TargetNode | ExpressionNode;

const sourceId = (path: string) => `s:${path}`;
const targetId = (path: string) => `t:${path}`;
const EXPR_ID = `x:${EXPRESSION_NODE}`;

function preview(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

const SourceFieldNode = memo(function SourceFieldNode({ data, isConnectable }: NodeProps<SourceNode>) {
  const { row } = data;
  const type = row.type === "unknown" ? "?" : row.type;
  return (
    <div
      className={`mf-node mf-source${row.missing ? " mf-missing" : ""}`}
      title={
        row.missing
          ? `${row.path}: not in any sample input`
          : `${row.path}${row.example !== undefined ? ` = ${preview(row.example)}` : ""}`
      }
    >
      <span className="mf-path">{row.path}</span>
      <span className="mf-meta">
        {row.inArray ? (
          <span className="mf-badge mf-each" title="inside an array: the path maps over every item">
            each
          </span>
        ) : null}
        <span className="mf-type">{row.missing ? "not in samples" : type === "array" ? "array []" : type}</span>
      </span>
      <Handle type="source" position={Position.Right} isConnectable={isConnectable} aria-label={`Source ${row.path}`} />
    </div>
  );
});

const TargetFieldNode = memo(function TargetFieldNode({ data, isConnectable, selected }: NodeProps<TargetNode>) {
  const { row } = data;
  const cls = ["mf-node", "mf-target"];
  if (row.needed) cls.push("mf-needed");
  if (row.mapped) cls.push("mf-mapped");
  if (row.unknown) cls.push("mf-unknown");
  if (selected) cls.push("mf-selected");
  return (
    <div className={cls.join(" ")} title={row.description ?? row.path}>
      <Handle type="target" position={Position.Left} isConnectable={isConnectable} aria-label={`Target ${row.path}`} />
      <span className="mf-path">
        {row.path}
        {row.required ? (
          <abbr className="mf-required" title="required">
            *
          </abbr>
        ) : null}
      </span>
      <span className="mf-meta">
        {row.needed ? <span className="mf-badge mf-unmapped">unmapped</span> : null}
        {row.unknown ? <span className="mf-badge mf-unmapped">not a target field</span> : null}
        <span className="mf-type">{row.type}</span>
      </span>
    </div>
  );
});

const ExpressionFieldNode = memo(function ExpressionFieldNode() {
  return (
    <div
      className="mf-node mf-expression"
      title="Targets whose expression reads no source field (a constant, or a computed value)"
    >
      <span className="mf-path">ƒ constant / expression</span>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { source: SourceFieldNode, target: TargetFieldNode, expression: ExpressionFieldNode };

const isValidConnection: IsValidConnection = (c) => c.source.startsWith("s:") && c.target.startsWith("t:");

const short = (s: string) => {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > 48 ? `${one.slice(0, 47)}…` : one;
};

export default function FlowCanvas(props: FlowCanvasProps) {
  const { sources, targets, edges, readOnly, stale, selected, onSelect, onConnect, onDelete } = props;

  const nodes = useMemo<AnyNode[]>(() => {
    const out: AnyNode[] = sources.map((row, i) => ({
      id: sourceId(row.path),
      type: "source" as const,
      position: { x: 0, y: i * ROW },
      data: { row },
      draggable: false,
      deletable: false,
      selectable: false,
      style: { width: NODE_WIDTH },
    }));
    targets.forEach((row, i) =>
      out.push({
        id: targetId(row.path),
        type: "target" as const,
        position: { x: TARGET_X, y: i * ROW },
        data: { row },
        draggable: false,
        deletable: false,
        selected: row.path === selected,
        style: { width: NODE_WIDTH },
        ariaLabel: `Target field ${row.path}${row.required ? " (required)" : ""}${row.needed ? ", not mapped" : ""}`,
      }),
    );
    if (edges.some((e) => e.source === null)) {
      out.push({
        id: EXPR_ID,
        type: "expression" as const,
        position: { x: EXPR_X, y: 0 },
        data: {},
        draggable: false,
        deletable: false,
        selectable: false,
        connectable: false,
        style: { width: 200 },
      });
    }
    return out;
  }, [sources, targets, edges, selected]);

  const flowEdges = useMemo<Edge[]>(
    () =>
      edges.map((e) => {
        const isSelected = e.target === selected;
        return {
          id: `e:${e.id}`,
          source: e.source === null ? EXPR_ID : sourceId(e.source),
          target: targetId(e.target),
          selected: isSelected,
          deletable: !readOnly,
          className: ["mf-edge", stale ? "mf-stale" : "", e.source === null ? "mf-edge-expr" : ""].join(" ").trim(),
          label: isSelected ? short(e.expression) : undefined,
          labelBgPadding: [6, 3] as [number, number],
          labelBgBorderRadius: 4,
          ariaLabel: `Mapping to ${e.target}: ${short(e.expression)}`,
          data: { target: e.target },
        };
      }),
    [edges, selected, readOnly, stale],
  );

  const handleConnect = useCallback(
    (c: Connection) => {
      if (readOnly || !c.source.startsWith("s:") || !c.target.startsWith("t:")) return;
      onConnect(c.source.slice(2), c.target.slice(2));
    },
    [readOnly, onConnect],
  );

  const height = Math.min(720, Math.max(320, Math.max(sources.length, targets.length, 1) * ROW + 40));
  const contentHeight = Math.max(sources.length, targets.length, 1) * ROW;

  return (
    <div className="mf-canvas" style={{ height }} data-readonly={readOnly ? "true" : "false"}>
      <ReactFlow<AnyNode, Edge>
        nodes={nodes}
        edges={flowEdges}
        nodeTypes={nodeTypes}
        defaultViewport={{ x: 16, y: 16, zoom: 1 }}
        translateExtent={[
          [-200, -120],
          [CANVAS_WIDTH + 200, contentHeight + 120],
        ]}
        minZoom={0.3}
        maxZoom={1.5}
        nodesDraggable={false}
        nodesConnectable={!readOnly}
        edgesReconnectable={false}
        elementsSelectable
        panOnScroll
        zoomOnScroll={false}
        deleteKeyCode={readOnly ? null : ["Backspace", "Delete"]}
        isValidConnection={isValidConnection}
        onConnect={handleConnect}
        onEdgeClick={(_, edge) => onSelect((edge.data as { target: string }).target)}
        onNodeClick={(_, node) => (node.type === "target" ? onSelect((node as TargetNode).data.row.path) : undefined)}
        onPaneClick={() => onSelect(null)}
        onEdgesDelete={(deleted) => {
          if (readOnly) return;
          for (const t of new Set(deleted.map((d) => (d.data as { target: string }).target))) onDelete(t);
        }}
      >
        <Background gap={16} size={1} />
        <Controls showInteractive={false} position="bottom-right" />
      </ReactFlow>
    </div>
  );
}
