import { sqsError } from '../errors.js';
import type { Params, SqsRequest, SqsResult } from './request.js';

export const XML_NAMESPACE = 'http://queue.amazonaws.com/doc/2012-11-05/';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_PARAMETERS = 4096;

/**
 * Flattened query members and the JSON member they become. Maps are `Prefix.N.<key>` / `Prefix.N.<value>`
 * pairs; lists are `Prefix.N`. (SQS API reference, "Making query API requests"; the service model's
 * locationName and flattened traits.)
 */
const MAPS: Record<string, { member: string; key: string; value: string }> = {
  Attribute: { member: 'Attributes', key: 'Name', value: 'Value' },
  MessageAttribute: { member: 'MessageAttributes', key: 'Name', value: 'Value' },
  MessageSystemAttribute: { member: 'MessageSystemAttributes', key: 'Name', value: 'Value' },
  Tag: { member: 'Tags', key: 'Key', value: 'Value' },
};
const LISTS: Record<string, string> = {
  AttributeName: 'AttributeNames',
  MessageAttributeName: 'MessageAttributeNames',
  MessageSystemAttributeName: 'MessageSystemAttributeNames',
  TagKey: 'TagKeys',
  AWSAccountId: 'AWSAccountIds',
  ActionName: 'Actions',
  StringListValue: 'StringListValues',
  BinaryListValue: 'BinaryListValues',
};

type Tree = { [key: string]: Tree | string };

/** Decodes a query protocol call (a form body, or the URL's query string for GET). */
export function decodeQueryRequest(form: Buffer | string): SqsRequest {
  let text: string;
  try {
    text = typeof form === 'string' ? form : strictUtf8.decode(form);
  } catch {
    throw sqsError('MalformedQueryString', 'The request is not valid UTF-8.');
  }
  const tree: Tree = {};
  let count = 0;
  for (const [name, value] of new URLSearchParams(text)) {
    if (++count > MAX_PARAMETERS) throw sqsError('MalformedQueryString', `The request has more than ${MAX_PARAMETERS} parameters.`);
    insert(tree, name, value);
  }
  const action = tree['Action'];
  if (typeof action !== 'string' || action === '') throw sqsError('MissingParameter', 'The request must contain the parameter Action.');
  const params = shape(tree);
  delete (params as Record<string, unknown>)['Action'];
  delete (params as Record<string, unknown>)['Version'];
  return { protocol: 'query', action, params };
}

function insert(tree: Tree, name: string, value: string): void {
  const parts = name.split('.');
  let node = tree;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i]!;
    const next = node[part];
    if (next === undefined) node = node[part] = {};
    else if (typeof next === 'string') throw sqsError('MalformedQueryString', `Parameter ${name} conflicts with ${parts.slice(0, i + 1).join('.')}.`);
    else node = next;
  }
  const last = parts[parts.length - 1]!;
  if (typeof node[last] === 'object') throw sqsError('MalformedQueryString', `Parameter ${name} conflicts with a nested parameter.`);
  node[last] = value;
}

function shape(tree: Tree): Params {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tree)) {
    const map = MAPS[key];
    const list = key.endsWith('BatchRequestEntry') ? 'Entries' : LISTS[key];
    if (map !== undefined && typeof value === 'object') out[map.member] = toMap(key, value, map.key, map.value);
    else if (list !== undefined && typeof value === 'object') out[list] = toList(key, value);
    else out[key] = typeof value === 'string' ? value : shape(value);
  }
  return out;
}

/** `Prefix.N` members in the order of N (1, 2, ...). */
function numbered(prefix: string, tree: Tree): Array<Tree | string> {
  const entries = Object.entries(tree).map(([n, v]) => {
    if (!/^[1-9][0-9]{0,5}$/.test(n)) throw sqsError('MalformedQueryString', `${prefix}.${n}: the index must be a positive integer.`);
    return [Number(n), v] as const;
  });
  return entries.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

function toList(prefix: string, tree: Tree): unknown[] {
  return numbered(prefix, tree).map((v) => (typeof v === 'string' ? v : shape(v)));
}

function toMap(prefix: string, tree: Tree, keyName: string, valueName: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of numbered(prefix, tree)) {
    if (typeof item === 'string') throw sqsError('MalformedQueryString', `${prefix}: expected ${keyName} and ${valueName}.`);
    const key = item[keyName];
    if (typeof key !== 'string') throw sqsError('MissingParameter', `The request must contain the parameter ${prefix}.N.${keyName}.`);
    const value = item[valueName];
    out[key] = value === undefined ? undefined : typeof value === 'string' ? value : shape(value);
  }
  return out;
}

/** List members of results and the element each item is (all flattened in SQS's model). */
const RESULT_LISTS: Record<string, string> = {
  QueueUrls: 'QueueUrl',
  queueUrls: 'QueueUrl',
  Messages: 'Message',
  Failed: 'BatchResultErrorEntry',
  Results: 'ListMessageMoveTasksResultEntry',
  StringListValues: 'StringListValue',
  BinaryListValues: 'BinaryListValue',
};
const RESULT_MAPS: Record<string, { element: string; key: string; value: string }> = {
  Attributes: { element: 'Attribute', key: 'Name', value: 'Value' },
  MessageAttributes: { element: 'MessageAttribute', key: 'Name', value: 'Value' },
  Tags: { element: 'Tag', key: 'Key', value: 'Value' },
};

/** `<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>...` as the query protocol answers. */
export function encodeXmlResult(action: string, result: SqsResult, requestId: string): string {
  const body = result === undefined ? '' : `<${action}Result>${members(action, result)}</${action}Result>`;
  return `<?xml version="1.0"?><${action}Response xmlns="${XML_NAMESPACE}">${body}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

function members(action: string, object: Record<string, unknown>): string {
  let xml = '';
  for (const [key, value] of Object.entries(object)) {
    if (value === undefined) continue;
    const map = RESULT_MAPS[key];
    if (Array.isArray(value)) {
      const element = key === 'Successful' ? `${action}ResultEntry` : (RESULT_LISTS[key] ?? key);
      for (const item of value) xml += `<${element}>${scalarOrMembers(action, item)}</${element}>`;
    } else if (map !== undefined && typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        xml += `<${map.element}><${map.key}>${escapeXml(k)}</${map.key}><${map.value}>${scalarOrMembers(action, v)}</${map.value}></${map.element}>`;
      }
    } else {
      xml += `<${key}>${scalarOrMembers(action, value)}</${key}>`;
    }
  }
  return xml;
}

function scalarOrMembers(action: string, value: unknown): string {
  if (typeof value === 'object' && value !== null) return members(action, value as Record<string, unknown>);
  return escapeXml(String(value));
}

/** XML text: markup characters and CR (an XML parser would turn a literal CR into LF, breaking the body's MD5). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) => XML_ESCAPES[c]!);
}
const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#xD;' };

export function encodeXmlError(code: string, fault: string, message: string, requestId: string): string {
  return `<?xml version="1.0"?><ErrorResponse xmlns="${XML_NAMESPACE}"><Error><Type>${fault}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message><Detail/></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}
