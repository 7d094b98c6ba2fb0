import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import type { Api } from '../api';
import { formatNumber, useT } from '../i18n';
import { readingSeries } from '../lib/readings';
import { machineSeries, mergeReadings } from '../lib/machineReadings';
import type { MachineSeries } from '../lib/machineReadings';
import type { MachineReading, Message, ReadingsFrame } from '../protocol';
import { readingLabel } from './MessageItem';

/** How far back a room's machine charts start. */
const WINDOW_MS = 15 * 60 * 1000;
const MACHINE = '#1d4ed8';
const TYPED = '#157f3b';
const UNCERTAIN = '#b45309';
const BAD = '#b42318';

function options(width: number): uPlot.Options {
  const taipei = (ts: number): Date => uPlot.tzDate(new Date(ts * 1000), 'Asia/Taipei');
  const clock = uPlot.fmtDate('{HH}:{mm}:{ss}');
  const marks = (stroke: string, size: number): uPlot.Series => ({
    stroke,
    width: 0,
    paths: () => null,
    points: { show: true, size, stroke, fill: '#fff', width: 2 },
  });
  return {
    width,
    height: 140,
    legend: { show: false },
    cursor: { show: false },
    tzDate: taipei,
    scales: { x: { time: true } },
    axes: [
      { stroke: '#44505c', size: 28, font: '11px system-ui', values: (_u, v) => v.map((x) => clock(taipei(x))) },
      { stroke: '#44505c', size: 44, font: '11px system-ui' },
    ],
    series: [
      {},
      // the machine's line: solid; people's typed readings: dashed with filled points
      { label: 'machine', stroke: MACHINE, width: 2, spanGaps: true, points: { show: false } },
      { label: 'typed', stroke: TYPED, width: 2, dash: [6, 4], spanGaps: true, points: { show: true, size: 6, fill: TYPED } },
      // doubtful points drawn over the line as hollow rings: amber uncertain, red bad
      { label: 'uncertain', ...marks(UNCERTAIN, 8) },
      { label: 'bad', ...marks(BAD, 10) },
    ],
  };
}

function MachineChart({ series }: { series: MachineSeries }) {
  const t = useT();
  const box = useRef<HTMLDivElement>(null);
  const key = `${series.data[0].length}:${series.latest}`;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(200, Math.min(el.clientWidth || 320, 520));
    const plot = new uPlot(options(width), series.data as uPlot.AlignedData, el);
    return () => plot.destroy();
  }, [key]);
  const label = readingLabel(series.tag);
  return (
    <figure
      class="reading-chart machine-chart"
      data-origin="machine"
      data-tag={series.tag}
      data-machine={series.machine_id}
      data-points={series.machinePoints}
      data-doubtful={series.doubtful}
    >
      <figcaption>
        <span class="reading-name">
          {label} · {series.machine_id} <span class="origin-badge">{t('machine.badge')}</span>
          {series.typedPoints > 0 && <span class="origin-badge typed">{t('machine.typed')}</span>}
        </span>
        <span class="reading-latest">
          {t('readings.latest')} <strong class="machine-latest">{formatNumber(series.latest)}</strong>
          {series.unit ? ` ${series.unit}` : ''}
        </span>
      </figcaption>
      <div
        ref={box}
        class="chart-box"
        role="img"
        aria-label={t('machine.chartLabel', { name: label, machine: series.machine_id, count: series.machinePoints })}
      />
    </figure>
  );
}

/**
 * The room's line, charted from its machines: the last 15 minutes read once, then each
 * `readings` frame's latest values added. Typed readings of the same name share the chart.
 */
export function MachineCharts({
  api,
  lineId,
  live,
  messages,
}: {
  api: Api;
  lineId: string;
  live: ReadingsFrame | null;
  messages: Message[];
}) {
  const t = useT();
  const [points, setPoints] = useState<MachineReading[]>([]);
  useEffect(() => {
    let current = true;
    const from = new Date(Date.now() - WINDOW_MS).toISOString();
    void api
      .lineReadings(lineId, from)
      .then((body) => current && setPoints((held) => mergeReadings(body.points, held)))
      .catch(() => undefined);
    return () => {
      current = false;
    };
  }, [api, lineId]);
  useEffect(() => {
    if (live && live.line_id === lineId) setPoints((held) => mergeReadings(held, live.points));
  }, [live, lineId]);
  const typed = useMemo(() => readingSeries(messages), [messages]);
  const series = useMemo(() => machineSeries(points, typed), [points, typed]);
  return (
    <section class="machine-charts" aria-labelledby="machine-title">
      <h3 id="machine-title">{t('machine.title')}</h3>
      <p class="muted small">{t('machine.legend')}</p>
      {series.length === 0 ? (
        <p class="muted">{t('machine.none')}</p>
      ) : (
        <div class="reading-charts">
          {series.map((s) => (
            <MachineChart key={`${s.machine_id}/${s.tag}`} series={s} />
          ))}
        </div>
      )}
    </section>
  );
}
