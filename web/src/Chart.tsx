/**
 * A uPlot time-series chart as a Preact component. uPlot draws on a canvas, which a screen
 * reader cannot read: the figure carries a caption and a text summary of the latest second, and
 * data-points / data-last say how many seconds it holds and the newest (what the browser test
 * watches). Series are fixed when a uPlot is made, so a new series (a vector appearing) makes a
 * new one; new points only call setData.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: readonly number[];
  /** A fixed colour (a vector keeps its colour whichever others are on the chart); else by position. */
  colour?: string;
}

interface Props {
  title: string;
  unit: string;
  x: readonly number[];
  series: readonly Series[];
  /** A stable name for tests and styles (data-chart). */
  name?: string;
}

const COLOURS = ['#1f5fbf', '#b3261e', '#1e7b34', '#8a4b08', '#6a1b9a', '#00695c', '#ad1457', '#37474f'];
const HEIGHT = 180;

/** 1234567 pps → "1.2 Mpps"; small figures keep a decimal so close ticks do not read the same. */
export function format(v: number, unit: string): string {
  const abs = Math.abs(v);
  const [scaled, prefix] = abs >= 1e9 ? [v / 1e9, 'G'] : abs >= 1e6 ? [v / 1e6, 'M'] : abs >= 1e3 ? [v / 1e3, 'k'] : [v, ''];
  const digits = Number.isInteger(scaled) || Math.abs(scaled) >= 100 ? 0 : 1;
  return `${scaled.toFixed(digits)}${unit === '' && prefix === '' ? '' : ` ${prefix}${unit}`}`;
}

/** The axis in UTC, as every time in the console and in the reports. */
const utc = (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC');

export function Chart({ title, unit, x, series, name }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => `${s.label}:${s.colour ?? ''}`).join('\u0000');
  const data = [x as number[], ...series.map((s) => s.values as number[])] as uPlot.AlignedData;

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.colour ?? COLOURS[i % COLOURS.length],
          width: 1.5,
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : format(v, unit)),
        })),
      ],
      tzDate: utc,
      axes: [{}, { size: 84, values: (_u, ticks) => ticks.map((t) => format(t, unit)) }],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    };
    const u = new uPlot(opts, data, el);
    plot.current = u;
    // follow the page's width (no horizontal scroll at any width the layout allows)
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // a new uPlot only when the series change; data goes through setData below
  }, [shape, unit]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  const last = x.length > 0 ? x[x.length - 1] : undefined;
  const latest = series.map((s) => `${s.label} ${format(s.values[s.values.length - 1] ?? 0, unit)}`).join(', ');
  return (
    <figure class="chart" data-chart={name} data-points={x.length} data-last={last ?? ''} data-series={series.map((s) => s.label).join(' ')}>
      <figcaption>
        <span class="chart-title">{title}</span>
        <span class="chart-latest">{last === undefined ? 'no data yet' : `${new Date(last * 1000).toISOString().slice(11, 19)} UTC: ${latest}`}</span>
      </figcaption>
      <div ref={box} class="chart-plot" aria-hidden="true" />
    </figure>
  );
}
