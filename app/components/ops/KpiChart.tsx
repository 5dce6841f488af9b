// One KPI's time series, drawn with uPlot in the browser only (uPlot measures
// the DOM; the server renders an empty frame of the same size).
import { useEffect, useRef } from "react";
import type uPlot from "uplot";

export interface KpiChartProps {
  title: string;
  unit: string;
  /** [epoch seconds, value | null] in time order. */
  points: [number, number | null][];
  target?: number | null;
}

export function KpiChart({ title, unit, points, target }: KpiChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    let cancelled = false;
    void import("uplot").then(({ default: UPlot }) => {
      if (cancelled || !box.current) return;
      const opts: uPlot.Options = {
        width: Math.max(240, box.current.clientWidth),
        height: 140,
        legend: { show: false },
        scales: { x: { time: true } },
        series: [{}, { label: title, stroke: "#2f6f9f", width: 2, spanGaps: false }],
        axes: [{}, { size: 50, values: (_u, ticks) => ticks.map((t) => `${t}${unit === "%" ? "%" : ""}`) }],
      };
      plot.current = new UPlot(opts, [[], []], box.current);
    });
    return () => {
      cancelled = true;
      plot.current?.destroy();
      plot.current = null;
    };
  }, [title, unit]);

  useEffect(() => {
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    plot.current?.setData([xs, ys]);
  });

  const last = points.at(-1)?.[1];
  return (
    <figure className="ops-chart" data-kpi-chart={title}>
      <figcaption>
        {title}
        {target !== undefined && target !== null ? <span className="muted"> (target {target})</span> : null}
        <span className="ops-chart-last">{last === undefined || last === null ? "no data" : `${last} ${unit}`}</span>
      </figcaption>
      <div ref={box} className="ops-chart-canvas" />
    </figure>
  );
}
