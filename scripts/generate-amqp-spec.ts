/**
 * Generates src/amqp/spec/generated.ts from the AMQP 0-9-1 spec XML (RabbitMQ's extended edition).
 *
 * Usage: node generate-amqp-spec.js [spec.xml] [out.ts]   (npm run generate:spec)
 *
 * The XML is a fixed, well-formed file, so plain regular expressions read it; no XML dependency.
 * For every method we emit an args interface and a specialised decoder/encoder that read and write the
 * fields in spec order, so nothing interprets a field list at run time.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Debian amqp-specs' copy of the XML, committed (scripts/spec/README.md says where from). */
const DEFAULT_SPEC = 'scripts/spec/amqp0-9-1.stripped.extended.xml';
const DEFAULT_OUT = 'src/amqp/spec/generated.ts';

/**
 * RabbitMQ protocol extensions that the extended XML lacks but clients use: connection.blocked/unblocked
 * (https://www.rabbitmq.com/docs/connection-blocked) and connection.update-secret (token refresh).
 * Written as XML so the same reader handles them.
 */
const CONNECTION_EXTENSIONS = `
    <method name="blocked" index="60"><field name="reason" domain="shortstr"/></method>
    <method name="unblocked" index="61"></method>
    <method name="update-secret" synchronous="1" index="70">
      <field name="new-secret" domain="longstr"/><field name="reason" domain="shortstr"/>
    </method>
    <method name="update-secret-ok" synchronous="1" index="71"></method>`;

/** longstr fields that carry bytes (SASL data, secrets) and so decode to Buffer, not string. */
const BYTE_FIELDS = new Set([
  'connection.start-ok.response',
  'connection.secure.challenge',
  'connection.secure-ok.response',
  'connection.update-secret.new-secret',
]);

type WireType = 'octet' | 'short' | 'long' | 'longlong' | 'timestamp' | 'bit' | 'shortstr' | 'longstr' | 'table';
/** A wire type plus the one TS-level distinction: longstr as bytes. */
type FieldKind = WireType | 'longbytes';

interface FieldSpec {
  xmlName: string;
  name: string;
  kind: FieldKind;
}

interface MethodSpec {
  className: string;
  classIndex: number;
  xmlName: string;
  index: number;
  hasContent: boolean;
  fields: FieldSpec[];
  /** ConnectionStartOk */
  typeName: string;
}

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(/([\w-]+)="([^"]*)"/g)) out.set(m[1]!, m[2]!);
  return out;
}

function required(attrs: Map<string, string>, name: string, where: string): string {
  const value = attrs.get(name);
  if (value === undefined) throw new Error(`missing ${name} in ${where}`);
  return value;
}

const pascal = (s: string): string => s.split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
const camel = (s: string): string => {
  const p = pascal(s);
  return p.charAt(0).toLowerCase() + p.slice(1);
};

function readDomains(xml: string): Map<string, WireType> {
  const domains = new Map<string, WireType>();
  for (const m of xml.matchAll(/<domain\s([^>]*?)\/?>/g)) {
    const a = attributes(m[1]!);
    domains.set(required(a, 'name', 'domain'), required(a, 'type', 'domain') as WireType);
  }
  return domains;
}

function readFields(body: string, domains: Map<string, WireType>, path: string): FieldSpec[] {
  const fields: FieldSpec[] = [];
  for (const m of body.matchAll(/<field\s([^>]*?)\/?>/g)) {
    const a = attributes(m[1]!);
    const xmlName = required(a, 'name', path);
    const declared = (a.get('type') as WireType | undefined) ?? domains.get(required(a, 'domain', `${path}.${xmlName}`));
    if (declared === undefined) throw new Error(`unknown domain for ${path}.${xmlName}`);
    const kind: FieldKind = declared === 'longstr' && BYTE_FIELDS.has(`${path}.${xmlName}`) ? 'longbytes' : declared;
    fields.push({ xmlName, name: camel(xmlName), kind });
  }
  return fields;
}

function readMethods(xml: string): MethodSpec[] {
  const domains = readDomains(xml);
  const methods: MethodSpec[] = [];
  for (const c of xml.matchAll(/<class\s([^>]*)>([\s\S]*?)<\/class>/g)) {
    const ca = attributes(c[1]!);
    const className = required(ca, 'name', 'class');
    const classIndex = Number(required(ca, 'index', className));
    const body = className === 'connection' ? c[2]! + CONNECTION_EXTENSIONS : c[2]!;
    for (const m of body.matchAll(/<method\s([^>]*)>([\s\S]*?)<\/method>/g)) {
      const ma = attributes(m[1]!);
      const xmlName = required(ma, 'name', className);
      const path = `${className}.${xmlName}`;
      methods.push({
        className,
        classIndex,
        xmlName,
        index: Number(required(ma, 'index', path)),
        hasContent: ma.get('content') === '1',
        fields: readFields(m[2]!, domains, path),
        typeName: pascal(className) + pascal(xmlName),
      });
    }
  }
  return methods;
}

const TS_TYPES: Record<FieldKind, string> = {
  octet: 'number',
  short: 'number',
  long: 'number',
  longlong: 'number',
  timestamp: 'number',
  bit: 'boolean',
  shortstr: 'string',
  longstr: 'string',
  longbytes: 'Buffer',
  table: 'FieldTable',
};

/** ByteReader / ByteWriter method per wire kind (bits are handled separately: they share octets). */
const IO_METHOD: Record<Exclude<FieldKind, 'bit'>, string> = {
  octet: 'u8',
  short: 'u16',
  long: 'u32',
  longlong: 'u64',
  timestamp: 'u64',
  shortstr: 'shortstr',
  longstr: 'longstr',
  longbytes: 'longbytes',
  table: 'table',
};

const hex = (n: number): string => '0x' + n.toString(16).padStart(8, '0');
const methodId = (m: MethodSpec): number => m.classIndex * 0x10000 + m.index;

/**
 * Groups fields into runs: consecutive bits share octets (up to 8 per octet), anything else is alone.
 * Spec 4.2.5.2: "Bits are accumulated into whole octets", and a non-bit field ends the accumulation.
 */
function packBits(fields: FieldSpec[]): Array<FieldSpec | FieldSpec[]> {
  const out: Array<FieldSpec | FieldSpec[]> = [];
  let run: FieldSpec[] | undefined;
  for (const f of fields) {
    if (f.kind !== 'bit') {
      run = undefined;
      out.push(f);
      continue;
    }
    if (run === undefined || run.length === 8) {
      run = [];
      out.push(run);
    }
    run.push(f);
  }
  return out;
}

function emitInterface(m: MethodSpec): string {
  const lines = m.fields.map((f) => `  ${f.name}: ${TS_TYPES[f.kind]};`);
  return `/** ${m.className}.${m.xmlName} */\nexport interface ${m.typeName} {${lines.length ? '\n' + lines.join('\n') + '\n' : ''}}\n`;
}

/** A local variable name for a field: `arguments` cannot name a variable in strict code. */
const localName = (f: FieldSpec): string => (f.name === 'arguments' || f.name === 'eval' ? `${f.name}Value` : f.name);

function emitDecoder(m: MethodSpec): string {
  const lines: string[] = [];
  let octet = 0;
  for (const group of packBits(m.fields)) {
    if (Array.isArray(group)) {
      const v = `bits${octet++}`;
      lines.push(`  const ${v} = r.u8();`);
      group.forEach((f, i) => lines.push(`  const ${localName(f)} = (${v} & ${1 << i}) !== 0;`));
    } else {
      lines.push(`  const ${localName(group)} = r.${IO_METHOD[group.kind as Exclude<FieldKind, 'bit'>]}();`);
    }
  }
  const names = m.fields.map((f) => (localName(f) === f.name ? f.name : `${f.name}: ${localName(f)}`)).join(', ');
  const param = m.fields.length ? 'r' : '_r';
  return (
    `export function decode${m.typeName}(${param}: ByteReader): ${m.typeName} {\n` +
    lines.join('\n') +
    (lines.length ? '\n' : '') +
    `  return {${names ? ` ${names} ` : ''}};\n}\n`
  );
}

function emitEncoder(m: MethodSpec): string {
  const lines: string[] = [];
  for (const group of packBits(m.fields)) {
    if (Array.isArray(group)) {
      const parts = group.map((f, i) => `(a.${f.name} ? ${1 << i} : 0)`);
      lines.push(`  w.u8(${parts.join(' | ')});`);
    } else {
      lines.push(`  w.${IO_METHOD[group.kind as Exclude<FieldKind, 'bit'>]}(a.${group.name});`);
    }
  }
  const params = m.fields.length ? 'w: ByteWriter, a' : '_w: ByteWriter, _a';
  return `export function encode${m.typeName}(${params}: ${m.typeName}): void {\n${lines.join('\n')}${lines.length ? '\n' : ''}}\n`;
}

function emitEnum(methods: MethodSpec[]): string {
  const members = methods.map((m) => `  ${m.typeName} = ${hex(methodId(m))},`);
  return (
    '/** (classId << 16) | methodId, as on the wire after the frame header. */\n' +
    `export const enum MethodId {\n${members.join('\n')}\n}\n`
  );
}

function emitTables(methods: MethodSpec[]): string {
  const argsMap = methods.map((m) => `  [MethodId.${m.typeName}]: ${m.typeName};`).join('\n');
  const names = methods.map((m) => `  [MethodId.${m.typeName}]: '${m.className}.${m.xmlName}',`).join('\n');
  const ids = methods.map((m) => `  MethodId.${m.typeName},`).join('\n');
  const schemas = methods
    .map((m) => {
      const fs = m.fields.map((f) => `{ name: '${f.name}', kind: '${f.kind}' }`).join(', ');
      return `  [MethodId.${m.typeName}]: [${fs}],`;
    })
    .join('\n');
  const content = methods
    .filter((m) => m.hasContent)
    .map((m) => `    case MethodId.${m.typeName}:`)
    .join('\n');
  return `export interface MethodArgs {
${argsMap}
}

/** Discriminated union of every method: narrow on \`id\`. */
export type Method = { [K in MethodId]: { id: K; args: MethodArgs[K] } }[MethodId];

/** Spec names: 'basic.publish'. */
export const methodNames: Record<MethodId, string> = {
${names}
};

/** Every method id, in spec order. */
export const allMethodIds: readonly MethodId[] = [
${ids}
];

export type FieldKind = ${(Object.keys(TS_TYPES) as FieldKind[]).map((k) => `'${k}'`).join(' | ')};
export interface FieldSchema {
  readonly name: string;
  readonly kind: FieldKind;
}

/** Field names and wire kinds per method, in wire order (for tools and tests; the codecs do not use it). */
export const methodSchemas: Record<MethodId, readonly FieldSchema[]> = {
${schemas}
};

/** True for the methods followed by a content header and body frames. */
export function methodHasContent(id: MethodId): boolean {
  switch (id) {
${content}
      return true;
    default:
      return false;
  }
}
`;
}

function emitDispatch(methods: MethodSpec[]): string {
  const dec = methods
    .map((m) => `    case MethodId.${m.typeName}:\n      return { id, args: decode${m.typeName}(r) };`)
    .join('\n');
  const enc = methods
    .map((m) => `    case MethodId.${m.typeName}:\n      encode${m.typeName}(w, method.args);\n      return;`)
    .join('\n');
  return `/** Decodes the arguments of method \`id\` from \`r\`; undefined when the id is unknown. */
export function decodeMethodArgs(id: number, r: ByteReader): Method | undefined {
  switch (id) {
${dec}
    default:
      return undefined;
  }
}

/** Writes the arguments of \`method\` (not its id) to \`w\`. */
export function encodeMethodArgs(w: ByteWriter, method: Method): void {
  switch (method.id) {
${enc}
  }
}
`;
}

export function generate(xml: string, source: string): string {
  const methods = readMethods(xml);
  const parts = [
    `// GENERATED by scripts/generate-amqp-spec.ts from ${source} — do not edit; run \`npm run generate:spec\`.\n`,
    `// RabbitMQ extensions not in that file: connection.blocked, unblocked, update-secret, update-secret-ok.\n`,
    `/* eslint-disable */\n`,
    `import type { FieldTable } from '../../broker/message.js';\n`,
    `import type { ByteReader } from '../codec/byte-reader.js';\n`,
    `import type { ByteWriter } from '../codec/byte-writer.js';\n\n`,
    emitEnum(methods),
    '\n',
    methods.map(emitInterface).join('\n'),
    '\n',
    emitTables(methods),
    '\n',
    methods.map(emitDecoder).join('\n'),
    '\n',
    methods.map(emitEncoder).join('\n'),
    '\n',
    emitDispatch(methods),
  ];
  return parts.join('');
}

function main(argv: string[]): void {
  const specPath = argv[0] ?? DEFAULT_SPEC;
  const outPath = argv[1] ?? DEFAULT_OUT;
  const xml = readFileSync(specPath, 'utf8');
  writeFileSync(outPath, generate(xml, specPath.split('/').pop() ?? specPath));
  process.stdout.write(`wrote ${outPath}\n`);
}

main(process.argv.slice(2));
