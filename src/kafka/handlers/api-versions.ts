/**
 * ApiVersions (key 18), v0-v3: the ranges of every API in the door's table.
 *
 * v0: error_code, [api_key min max]; v1+: + throttle_time_ms; v3 is flexible (KIP-511: the request
 * carries client_software_name/version, compact arrays, tagged fields). Its response header is always
 * v0 (no tagged fields), even for v3, so a client can read the answer before it knows the versions.
 *
 * A version the broker does not know gets the v0 format with UNSUPPORTED_VERSION and the ranges
 * (KIP-511): librdkafka sends v3 first and retries with what that answer lists.
 */
import type { KafkaApi, KafkaRequest, ResponseBody } from '../api.js';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { Writer } from '../protocol/writer.js';
import type { KafkaSession } from '../session.js';

export const API_VERSIONS_MAX = 3;

export const apiVersions: KafkaApi = {
  key: ApiKey.ApiVersions,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: API_VERSIONS_MAX,
  flexibleFrom: 3,
  handle(session: KafkaSession, request: KafkaRequest): ResponseBody {
    const version = request.header.apiVersion;
    if (version >= 3) {
      // client_software_name and _version: shown nowhere yet, read so a malformed body is refused.
      request.body.compactString();
      request.body.compactString();
      request.body.taggedFields();
    }
    const apis = [...session.door.apis.values()].sort((a, b) => a.key - b.key);
    return (writer) => writeApiVersions(writer, version, ErrorCode.NONE, apis);
  },
};

export function writeApiVersions(writer: Writer, version: number, errorCode: number, apis: readonly KafkaApi[]): void {
  writer.int16(errorCode);
  writer.array(apis, (w, api) => {
    w.int16(api.key).int16(api.minVersion).int16(api.maxVersion);
    w.taggedFields();
  });
  if (version >= 1) writer.int32(0); // throttle_time_ms
  writer.taggedFields();
}
