import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatNumber, useT } from '../i18n';
import { errorMessage } from '../lib/format';
import type { Line, WeeklyMetrics } from '../lib/record';
import { useSession } from '../session';
import { ErrorAlert } from './Form';

const MTTA_COLOR = '#1d4ed8';
const MTTR_COLOR = '#c2410c';

function minutes(seconds: number | null): number | null {
  return seconds === null ? null : seconds / 60;
}

/** Weeks as uPlot data: x in seconds (the week's Monday, UTC), MTTA and MTTR in minutes. */
export function metricsData(weeks: WeeklyMetrics[]): uPlot.AlignedData {
  return [
    weeks.map((w) => Date.parse(`${w.week}T00:00:00Z`) / 1000),
    weeks.map((w) => minutes(w.mtta_s)),
    weeks.map((w) => minutes(w.mttr_s)),
  ];
}

function MetricsChart({ weeks, label }: { weeks: WeeklyMetrics[]; label: string }) {
  const t = useT();
  const box = useRef<HTMLDivElement>(null);
  const key = JSON.stringify(weeks);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(260, Math.min(el.clientWidth || 600, 900));
    const plot = new uPlot(
      {
        width,
        height: 220,
        legend: { show: true },
        cursor: { show: false },
        scales: { x: { time: true } },
        axes: [
          { stroke: '#44505c', grid: { stroke: '#eef1f4' }, font: '11px system-ui' },
          { stroke: '#44505c', grid: { stroke: '#eef1f4' }, size: 48, font: '11px system-ui' },
        ],
        series: [
          {},
          { label: t('record.metrics.mtta'), stroke: MTTA_COLOR, width: 2, points: { show: true, size: 7, fill: MTTA_COLOR } },
          { label: t('record.metrics.mttr'), stroke: MTTR_COLOR, width: 2, points: { show: true, size: 7, fill: MTTR_COLOR } },
        ],
      },
      metricsData(weeks),
      el,
    );
    return () => plot.destroy();
  }, [key, t]);
  return <div ref={box} class="chart-box metrics-chart" role="img" aria-label={label} data-weeks={weeks.length} />;
}

/** Response metrics per production line and week: incidents, MTTA, MTTR and downtime, charted with uPlot. */
export function MetricsPage() {
  const t = useT();
  const { api } = useSession();
  const [lines, setLines] = useState<Line[]>([]);
  const [lineId, setLineId] = useState('');
  const [weeks, setWeeks] = useState<WeeklyMetrics[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .lines()
      .then((b) => setLines(b.lines))
      .catch((err: unknown) => setError(errorMessage(err)));
  }, []);
  useEffect(() => {
    setWeeks(null);
    api
      .lineMetrics(lineId || undefined)
      .then((b) => setWeeks(b.weeks))
      .catch((err: unknown) => setError(errorMessage(err)));
  }, [lineId]);
  const lineName = (id: string | null): string => {
    const line = lines.find((l) => l.line_id === id);
    return line ? line.name : t('record.metrics.noLine');
  };
  const fmt = (seconds: number | null): string => (seconds === null ? '—' : formatNumber(Math.round(seconds / 6) / 10));
  return (
    <section class="metrics-page" aria-labelledby="metrics-title">
      <div class="page-head">
        <h1 id="metrics-title">{t('record.metrics.title')}</h1>
      </div>
      <div class="room-filters">
        <label>
          {t('record.metrics.line')}
          <select value={lineId} onChange={(e) => setLineId(e.currentTarget.value)}>
            <option value="">{t('record.metrics.allLines')}</option>
            {lines.map((l) => (
              <option key={l.line_id} value={l.line_id}>
                {l.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorAlert error={error} />
      {weeks === null ? (
        <p class="muted">{t('app.loading')}</p>
      ) : weeks.length === 0 ? (
        <p class="muted">{t('record.metrics.none')}</p>
      ) : (
        <>
          <MetricsChart weeks={weeks} label={t('record.metrics.chartLabel')} />
          <div class="table-scroll">
            <table class="metrics-table">
              <thead>
                <tr>
                  <th scope="col">{t('record.metrics.week')}</th>
                  <th scope="col">{t('record.metrics.line')}</th>
                  <th scope="col">{t('record.metrics.incidents')}</th>
                  <th scope="col">{t('record.metrics.mtta')}</th>
                  <th scope="col">{t('record.metrics.mttr')}</th>
                  <th scope="col">{t('record.metrics.downtime')}</th>
                </tr>
              </thead>
              <tbody>
                {weeks.map((w) => (
                  <tr key={`${w.week}-${w.line_id ?? ''}`}>
                    <td>{w.week}</td>
                    <td>{lineName(w.line_id)}</td>
                    <td>{formatNumber(w.incidents)}</td>
                    <td>{fmt(w.mtta_s)}</td>
                    <td>{fmt(w.mttr_s)}</td>
                    <td>{formatNumber(Math.round(w.downtime_minutes * 10) / 10)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
