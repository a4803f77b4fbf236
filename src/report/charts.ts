/**
 * Report charts as SVG strings, drawn in Node by echarts' server-side renderer: no DOM, no
 * browser, no script in the output, so the report reads the same with JavaScript off and prints.
 */
import { createRequire } from 'node:module';
import type * as Echarts from 'echarts';

// echarts takes ~0.4 s to load: required on the first chart, not at start-up, so every other
// command (and analyze without --report) starts fast.
const require = createRequire(import.meta.url);
let echartsLib: typeof Echarts | undefined;
function lib(): typeof Echarts {
  echartsLib ??= require('echarts') as typeof Echarts;
  return echartsLib;
}

import type { Analysis } from '../model/analysis.js';
import { isoSeconds, PROTOCOL_LABELS, vectorName } from './format.js';
import type { VectorTimeline } from './replay.js';
import { unitOf } from './unit.js';

// Colour-blind-safe palette (Okabe–Ito), all traffic in grey underneath.
const PALETTE = ['#D55E00', '#0072B2', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];
const GREY = '#9aa0a6';

function render(option: Echarts.EChartsOption, width: number, height: number): string {
  const chart = lib().init(null, null, {
    renderer: 'svg',
    ssr: true,
    width,
    height,
  });
  try {
    chart.setOption({
      animation: false,
      useUTC: true,
      textStyle: { fontFamily: 'sans-serif' },
      ...option,
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

function utcLabel(ms: number, spanS: number): string {
  const iso = new Date(ms).toISOString();
  if (spanS < 10) return iso.slice(17, 23);
  if (spanS < 2 * 86400) return iso.slice(11, 19);
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

/**
 * Packets per second over time: all traffic, each attack's signature matches when the capture
 * was replayed, and every attack's window shaded and labelled with its vector.
 */
export function timelineChart(a: Analysis, tl: VectorTimeline, width = 920, height = 370): string {
  const rate = (n: number) => Math.round((n / tl.bin_s) * 1000) / 1000;
  const xs = tl.total.map((_, i) => Math.round((tl.t0 + i * tl.bin_s) * 1000));
  const spanS = Math.max(tl.bin_s, tl.total.length * tl.bin_s);
  // Windows are numbered as the attacks are in the report: names of overlapping windows would collide.
  const windows = a.attacks.map((x, k) => {
    // A window shorter than one bin would not show: widen it to a bin.
    const from = isoSeconds(x.start) * 1000;
    const to = Math.max(isoSeconds(x.end) * 1000, from + tl.bin_s * 1000);
    return [
      {
        name: `#${k + 1}`,
        xAxis: from,
        itemStyle: { color: 'rgba(213,94,0,0.12)' },
      },
      { xAxis: to },
    ];
  });
  const series: Echarts.SeriesOption[] = [
    {
      name: 'all traffic',
      type: 'line',
      step: 'end',
      symbol: 'none',
      color: GREY,
      lineStyle: { width: 1.5 },
      areaStyle: { opacity: 0.25 },
      data: xs.map((x, i) => [x, rate(tl.total[i] as number)]),
      markArea: {
        silent: true,
        // Numbers would pile up on one another beyond a dozen attacks.
        label: { show: a.attacks.length <= 12, position: 'insideTopLeft', color: '#7a2e00', fontSize: 11, fontWeight: 'bold' },
        data: windows as never,
      },
    },
  ];
  tl.byVector.forEach((g, k) => {
    const first = a.attacks[g.attacks[0] as number];
    const who = first ? (first.victim.ip ?? first.victim.prefix ?? '?') : '?';
    series.push({
      name: g.attacks.length === 1 ? `${vectorName(g.vector)} → ${who}` : `${vectorName(g.vector)} (${g.attacks.length} attacks)`,
      type: 'line',
      step: 'end',
      symbol: 'none',
      color: PALETTE[k % PALETTE.length],
      lineStyle: { width: 2 },
      data: xs.map((t, i) => [t, rate(g.bins[i] as number)]),
    });
  });
  return render(
    {
      grid: { left: 70, right: 24, top: 36, bottom: 84 },
      legend: { bottom: 4, type: 'plain' },
      xAxis: {
        type: 'time',
        name: 'UTC',
        nameLocation: 'end',
        nameGap: 8,
        nameTextStyle: { verticalAlign: 'top', padding: [28, 0, 0, 0] },
        min: xs[0],
        max: xs.length > 0 ? (xs[xs.length - 1] as number) + tl.bin_s * 1000 : undefined,
        axisLabel: {
          formatter: (v: number) => utcLabel(v, spanS),
          hideOverlap: true,
        },
      },
      yAxis: {
        type: 'value',
        name: `${unitOf(a).many}/s`,
        nameTextStyle: { align: 'left' },
      },
      series,
    },
    width,
    height,
  );
}

/** Packets per protocol (frames containing it at any layer), largest first. */
export function protocolChart(a: Analysis, width = 920, height = 300): string {
  const rows = PROTOCOL_LABELS.map(([k, label]) => ({
    label,
    n: a.traffic.protocols[k],
  }))
    .filter((r) => r.n > 0)
    .sort((x, y) => y.n - x.n);
  return render(
    {
      grid: { left: 100, right: 90, top: 16, bottom: 32 },
      xAxis: {
        type: 'value',
        name: 'packets',
        nameLocation: 'middle',
        nameGap: 24,
      },
      yAxis: {
        type: 'category',
        inverse: true,
        data: rows.map((r) => r.label),
      },
      series: [
        {
          type: 'bar',
          color: PALETTE[1],
          barMaxWidth: 26,
          // A protocol with a handful of packets next to millions must still show as a bar.
          barMinHeight: 2,
          label: {
            show: true,
            position: 'right',
            formatter: (p: { value: unknown }) => Number(p.value).toLocaleString('en-US'),
          },
          data: rows.map((r) => r.n),
        },
      ],
    },
    width,
    Math.max(120, Math.min(height, 48 + rows.length * 30)),
  );
}
