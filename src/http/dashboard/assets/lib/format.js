// How numbers, rates, sizes and times read on screen.

const integer = new Intl.NumberFormat('en');
const decimal = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });

export function count(value) {
  return typeof value === 'number' ? integer.format(value) : '';
}

export function rate(value) {
  return typeof value === 'number' ? `${decimal.format(value)}/s` : '';
}

/** The rate of one message_stats counter ("publish" → publish_details.rate), 0 when absent. */
export function statRate(stats, name) {
  return stats?.[`${name}_details`]?.rate ?? 0;
}

export function bytes(value) {
  if (typeof value !== 'number') return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = value;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return `${unit === 0 ? n : decimal.format(n)} ${units[unit]}`;
}

export function clockTime(ms) {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

export function dateTime(ms) {
  return typeof ms === 'number' ? new Date(ms).toLocaleString('en-GB', { hour12: false }) : '';
}

export function yesNo(value) {
  return value ? 'yes' : 'no';
}

/** The default exchange has an empty name; RabbitMQ's UI shows it like this. */
export function exchangeLabel(name) {
  return name === '' ? '(AMQP default)' : name;
}

/** The default exchange is "amq.default" in URLs. */
export function exchangeUrlName(name) {
  return name === '' ? 'amq.default' : name;
}

/** A compact one-line view of an arguments or headers table. */
export function table(value) {
  if (value === null || value === undefined) return '';
  const entries = Object.entries(value);
  return entries.map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ');
}
