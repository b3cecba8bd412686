// Line charts on <canvas>: a few series over time, y axis from zero with round gridlines, time on x.
// The legend is HTML next to the canvas (readable by screen readers, with the latest values).

import { h, replaceChildren } from './dom.js';
import { clockTime } from './format.js';

const PALETTE = ['#e8590c', '#1c7ed6', '#2f9e44', '#ae3ec9', '#f08c00'];

/** A step size of 1, 2 or 5 × 10^n that gives about four gridlines up to `max`. */
function niceStep(max) {
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const ratio = raw / magnitude;
  return (ratio <= 1 ? 1 : ratio <= 2 ? 2 : ratio <= 5 ? 5 : 10) * magnitude;
}

/**
 * series: [{ label, points: [{ t, v }] }]; format(v) labels the y axis and the legend.
 * Returns { element, update(series) }.
 */
export function createChart(title, format) {
  const canvas = h('canvas', { role: 'img', 'aria-label': title, height: 180, width: 600 });
  const legend = h('ul', { class: 'legend' });
  const element = h('figure', { class: 'chart' }, canvas, h('figcaption', {}, h('span', { class: 'chart-title' }, title), legend));

  function update(series) {
    draw(canvas, series, format);
    replaceChildren(
      legend,
      series.map((s, i) => {
        const last = s.points[s.points.length - 1];
        return h('li', {}, h('span', { class: `swatch swatch-${i}`, 'aria-hidden': 'true' }), `${s.label}: `, h('strong', {}, last === undefined ? '–' : format(last.v)));
      }),
    );
    canvas.setAttribute('aria-label', `${title}. ${series.map((s) => `${s.label} ${format(s.points[s.points.length - 1]?.v ?? 0)}`).join(', ')}`);
  }

  return { element, canvas, update };
}

function draw(canvas, series, format) {
  const ratio = window.devicePixelRatio || 1;
  const cssWidth = canvas.clientWidth || 600;
  const cssHeight = canvas.clientHeight || 180;
  if (canvas.width !== Math.round(cssWidth * ratio)) canvas.width = Math.round(cssWidth * ratio);
  if (canvas.height !== Math.round(cssHeight * ratio)) canvas.height = Math.round(cssHeight * ratio);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, cssWidth, cssHeight);

  const all = series.flatMap((s) => s.points);
  const now = Date.now();
  const t0 = all.length === 0 ? now - 60_000 : Math.min(...all.map((p) => p.t));
  const t1 = all.length === 0 ? now : Math.max(t0 + 1, Math.max(...all.map((p) => p.t)));
  const step = niceStep(Math.max(1, ...all.map((p) => p.v)));
  const top = step * Math.max(1, Math.ceil(Math.max(1, ...all.map((p) => p.v)) / step));

  const left = 64;
  const right = cssWidth - 12;
  const plotTop = 10;
  const bottom = cssHeight - 24;
  const x = (t) => left + ((t - t0) / (t1 - t0)) * (right - left);
  const y = (v) => bottom - (v / top) * (bottom - plotTop);

  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#5c6570';
  ctx.strokeStyle = '#e3e6ea';
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let v = 0; v <= top + step / 2; v += step) {
    ctx.beginPath();
    ctx.moveTo(left, Math.round(y(v)) + 0.5);
    ctx.lineTo(right, Math.round(y(v)) + 0.5);
    ctx.stroke();
    ctx.fillText(format(v), left - 6, y(v));
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillText(clockTime(t0), left + 24, bottom + 6);
  if (t1 - t0 >= 1000) ctx.fillText(clockTime(t1), right - 24, bottom + 6);

  ctx.lineWidth = 2;
  ctx.lineJoin = 'round';
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    ctx.strokeStyle = PALETTE[i % PALETTE.length];
    ctx.beginPath();
    s.points.forEach((p, k) => (k === 0 ? ctx.moveTo(x(p.t), y(p.v)) : ctx.lineTo(x(p.t), y(p.v))));
    if (s.points.length === 1) ctx.arc(x(s.points[0].t), y(s.points[0].v), 2, 0, Math.PI * 2);
    ctx.stroke();
  });
}
