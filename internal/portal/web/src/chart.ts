// Time-series charts with uPlot (loaded on demand: only pages with
// charts need it). A chart also gets a text summary for screen readers,
// since a canvas says nothing.

import type { AlignedData, Options } from "uplot";
import { h } from "./dom";

export interface Series {
  label: string;
  values: (number | null)[];
}

// timeChart draws series over x (unix seconds) into a new element of the
// given width; summary is its accessible description.
export async function timeChart(title: string, x: number[], series: Series[], summary: string, width: number): Promise<HTMLElement> {
  const { default: UPlot } = await import("uplot");
  const el = h("figure", { class: "chart", role: "img", "aria-label": `${title}: ${summary}` }, h("figcaption", {}, title));
  const colors = ["#2450d3", "#106b35", "#b3261e", "#8a5a00"];
  const opts: Options = {
    width: Math.max(280, Math.min(width, 820)),
    height: 200,
    legend: { show: true },
    series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: colors[i % colors.length], width: 2, spanGaps: false, points: { show: true, size: 5 } }))],
    axes: [{}, { size: 60 }],
  };
  const data = [x, ...series.map((s) => s.values)] as AlignedData;
  new UPlot(opts, data, el);
  return el;
}
