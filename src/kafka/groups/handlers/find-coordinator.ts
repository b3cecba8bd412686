/**
 * FindCoordinator (key 10), v0-v4: this broker coordinates every group (a single node), so the answer
 * is always this node, as Metadata names it. v0: key; v1-v3: + key_type (0 group, 1 transaction); v3 is
 * flexible; v4 (KIP-699) looks up a batch of keys and answers per key. Transactions are not offered:
 * key_type 1 gets COORDINATOR_NOT_AVAILABLE, an unknown key type INVALID_REQUEST.
 */
import type { KafkaApi, KafkaRequest, ResponseBody } from '../../api.js';
import { advertisedAddress } from '../../handlers/metadata.js';
import type { Reader } from '../../protocol/reader.js';
import type { Writer } from '../../protocol/writer.js';
import type { KafkaSession } from '../../session.js';
import type { GroupErrorName } from '../errors.js';
import { mayUseGroups } from '../part.js';
import { code, messageOf } from '../wire.js';

export interface FindCoordinatorRequest {
  readonly keyType: number;
  readonly keys: readonly string[];
}

export interface CoordinatorNode {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export function decodeFindCoordinator(r: Reader, version: number): FindCoordinatorRequest {
  let keyType = 0;
  let keys: string[];
  if (version >= 4) {
    keyType = r.int8();
    keys = r.array((e) => e.string());
  } else {
    keys = [r.string()];
    if (version >= 1) keyType = r.int8();
  }
  r.taggedFields();
  return { keyType, keys };
}

export function writeFindCoordinator(w: Writer, version: number, keys: readonly string[], error: GroupErrorName, node: CoordinatorNode): void {
  const failed = error !== 'NONE';
  const nodeId = failed ? -1 : node.nodeId;
  const host = failed ? '' : node.host;
  const port = failed ? -1 : node.port;
  if (version >= 1) w.int32(0);
  if (version >= 4) {
    w.array(keys, (e, key) => {
      e.string(key).int32(nodeId).string(host).int32(port).int16(code(error)).nullableString(messageOf(error));
      e.taggedFields();
    });
  } else {
    w.int16(code(error));
    if (version >= 1) w.nullableString(messageOf(error));
    w.int32(nodeId).string(host).int32(port);
  }
  w.taggedFields();
}

/** The node clients are told to talk to: this one, at the address Metadata names. */
export function thisNode(session: KafkaSession): CoordinatorNode {
  return { nodeId: session.door.settings.nodeId, ...advertisedAddress(session) };
}

export const findCoordinator: KafkaApi = {
  key: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,
  handle(session: KafkaSession, request: KafkaRequest): ResponseBody {
    const version = request.header.apiVersion;
    const { keyType, keys } = decodeFindCoordinator(request.body, version);
    const error: GroupErrorName =
      keyType === 1 ? 'COORDINATOR_NOT_AVAILABLE' : keyType !== 0 ? 'INVALID_REQUEST' : mayUseGroups(session) ? 'NONE' : 'GROUP_AUTHORIZATION_FAILED';
    const node = thisNode(session);
    return (w) => writeFindCoordinator(w, version, keys, error, node);
  },
};
