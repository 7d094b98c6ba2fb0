import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Api } from '../api';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatNumber, useT } from '../i18n';
import { readingSeries } from '../lib/readings';
import type { ReadingSeries } from '../lib/readings';
import type { Message, ReadingsFrame } from '../protocol';
import { MachineCharts } from './MachineCharts';
import { Icon } from './Icon';
import { readingLabel } from './MessageItem';

/** Readings a factory room almost always has; their history is asked for even before one is on screen. */
const COMMON_READINGS = ['temperature', 'pressure', 'production_rate'];

const COLORS = ['#1d4ed8', '#c2410c', '#157f3b', '#7c3aed', '#b42318', '#0e7490'];

/** A lone reading is drawn in the middle of ten minutes: its time, ±5 min. */
const ONE_POINT_SPAN_S = 5 * 60;

/** The time axis: the readings' own span, or ±5 min around a lone reading (not 00:00:00 repeated). */
export function timeRange(_u: unknown, min: number, max: number): [number, number] {
  return min === max ? [min - ONE_POINT_SPAN_S, max + ONE_POINT_SPAN_S] : [min, max];
}

/** uPlot options for one small chart; times on the axis in GMT+8. */
export function chartOptions(s: ReadingSeries, width: number, height: number, color: string): uPlot.Options {
  const span = s.points.length > 1 ? s.points[s.points.length - 1]![0] - s.points[0]![0] : 2 * ONE_POINT_SPAN_S;
  // Clock times on the axis (GMT+8), with seconds only when the readings are that close.
  const clock = uPlot.fmtDate(span < 180 ? '{HH}:{mm}:{ss}' : '{HH}:{mm}');
  const taipei = (ts: number): Date => uPlot.tzDate(new Date(ts * 1000), 'Asia/Taipei');
  return {
    width,
    height,
    legend: { show: false },
    cursor: { show: false },
    tzDate: taipei,
    scales: { x: { time: true, range: timeRange } },
    axes: [
      {
        stroke: '#44505c',
        grid: { stroke: '#eef1f4' },
        size: 28,
        font: '11px system-ui',
        values: (_u, splits) => splits.map((v) => clock(taipei(v))),
      },
      { stroke: '#44505c', grid: { stroke: '#eef1f4' }, size: 44, font: '11px system-ui' },
    ],
    series: [{}, { label: s.name, stroke: color, width: 2, points: { show: true, size: 5, fill: color } }],
  };
}

/** The time axis's ends as clock times (GMT+8), "08:55–09:05": the chart's range in words. */
export function axisSpan(s: ReadingSeries): string {
  if (!s.points.length) return '';
  const [from, to] = timeRange(null, s.points[0]![0], s.points[s.points.length - 1]![0]);
  const clock = uPlot.fmtDate('{HH}:{mm}');
  const taipei = (ts: number): Date => uPlot.tzDate(new Date(ts * 1000), 'Asia/Taipei');
  return `${clock(taipei(from))}–${clock(taipei(to))}`;
}

export function chartData(s: ReadingSeries): uPlot.AlignedData {
  return [s.points.map((p) => p[0]), s.points.map((p) => p[1])];
}

/** One reading's line chart, redrawn when its points change. */
export function ReadingChart({ series, index }: { series: ReadingSeries; index: number }) {
  const t = useT();
  const box = useRef<HTMLDivElement>(null);
  const key = series.points.map((p) => p.join(':')).join(',');
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(200, Math.min(el.clientWidth || 320, 520));
    const plot = new uPlot(chartOptions(series, width, 140, COLORS[index % COLORS.length]!), chartData(series), el);
    return () => plot.destroy();
  }, [key, index]);
  const label = readingLabel(series.name);
  return (
    <figure class="reading-chart" data-reading={series.name} data-points={series.points.length} data-axis={axisSpan(series)}>
      <figcaption>
        <span class="reading-name">{label}</span>
        <span class="reading-latest">
          {t('readings.latest')} <strong>{formatNumber(series.latest)}</strong>
          {series.unit ? ` ${series.unit}` : ''}
        </span>
      </figcaption>
      <div
        ref={box}
        class="chart-box"
        role="img"
        aria-label={t('readings.chartLabel', { name: label, count: series.points.length })}
      />
    </figure>
  );
}

/**
 * The room's readings: the loaded messages, plus every earlier message with a
 * reading of the same names (the incident-data route), so a chart covers the
 * whole incident and not only the pages on screen. Live messages join as they come.
 */
export function useAllReadings(api: Api, roomId: string, messages: Message[]): ReadingSeries[] {
  const [earlier, setEarlier] = useState<Message[]>([]);
  // The names on screen, and the usual ones (a reading may be older than every loaded page).
  const names = useMemo(
    () => [...new Set([...COMMON_READINGS, ...readingSeries(messages).map((s) => s.name)])],
    [messages],
  );
  const key = names.join('\u0000');
  useEffect(() => {
    let live = true;
    void Promise.all(names.map((n) => api.incidentData(roomId, n).then((b) => b.messages).catch(() => [])))
      .then((lists) => live && setEarlier(lists.flat()))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [roomId, key]);
  return useMemo(() => {
    const byId = new Map<string, Message>();
    for (const m of earlier) byId.set(m.message_id, m);
    for (const m of messages) byId.set(m.message_id, m); // the live copy wins (edits, deletions)
    return readingSeries([...byId.values()]);
  }, [earlier, messages]);
}

/** The room's readings over time: a small chart per reading with its latest value, live. */
export function ReadingsPanel({
  api,
  roomId,
  messages,
  onClose,
  lineId,
  live,
}: {
  api: Api;
  roomId: string;
  messages: Message[];
  onClose: () => void;
  /** the room's production line: its machines' readings are charted too (issue 18) */
  lineId?: string | null;
  live?: ReadingsFrame | null;
}) {
  const t = useT();
  const series = useAllReadings(api, roomId, messages);
  return (
    <section class="readings-panel" aria-labelledby="readings-title">
      <header>
        <h2 id="readings-title">{t('readings.title')}</h2>
        <button type="button" class="icon-button" aria-label={t('common.close')} onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      {lineId && <MachineCharts api={api} lineId={lineId} live={live ?? null} messages={messages} />}
      {series.length === 0 ? (
        <p class="muted">{t('readings.none')}</p>
      ) : (
        <div class="reading-charts">
          {series.map((s, i) => (
            <ReadingChart key={s.name} series={s} index={i} />
          ))}
        </div>
      )}
    </section>
  );
}

/** The same chart drawn off screen and returned as a PNG data URL (for the report preview). */
export async function chartImage(s: ReadingSeries, index: number): Promise<string> {
  const host = document.createElement('div');
  host.style.cssText = 'position:fixed;left:-10000px;top:0;width:560px';
  document.body.append(host);
  try {
    const plot = new uPlot(chartOptions(s, 560, 200, COLORS[index % COLORS.length]!), chartData(s), host);
    // uPlot commits its drawing in a microtask.
    await new Promise((r) => setTimeout(r, 0));
    const url = plot.ctx.canvas.toDataURL('image/png');
    plot.destroy();
    return url;
  } finally {
    host.remove();
  }
}
