/**
 * RabbitMQ's URI rules for shovels and federation: `amqp://` without a host is this broker itself
 * (RabbitMQ's direct connection), and a URI without a path names the vhost the shovel or upstream
 * belongs to (amqp_uri:parse with the parameter's vhost as the default).
 */

export type Endpoint = { readonly local: true; readonly vhost: string } | { readonly local: false; readonly uri: string };

export function endpointOf(uri: string, defaultVhost: string): Endpoint {
  const url = new URL(uri);
  const path = url.pathname;
  if (url.hostname === '') {
    return { local: true, vhost: path === '' || path === '/' ? defaultVhost : decodeURIComponent(path.slice(1)) };
  }
  if (path === '') url.pathname = `/${encodeURIComponent(defaultVhost)}`;
  return { local: false, uri: url.toString() };
}
