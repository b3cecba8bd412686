/**
 * Runtime parameters (RabbitMQ's `rabbitmqctl set_parameter` model): per-vhost values keyed by a
 * component name (`shovel`, `federation-upstream`, ...) and a name, global parameters keyed by name,
 * and operator policies. They are definitions: durable through the broker's definition journal, like
 * policies. The core knows no component: a plugin (src/shovel, src/federation) registers one with its
 * validator and hears of changes through `onChange`.
 */
import { preconditionFailed, BrokerError, BrokerErrorKind } from '../errors.js';

/** A component's check of a value; throws a BrokerError (precondition-failed) with RabbitMQ's words. */
export interface ParameterComponent {
  readonly name: string;
  validate(vhost: string, name: string, value: unknown): void;
}

export interface RuntimeParameter {
  readonly component: string;
  readonly vhost: string;
  readonly name: string;
  readonly value: unknown;
}

export interface GlobalParameter {
  readonly name: string;
  readonly value: unknown;
}

export type ParameterChange =
  | { readonly kind: 'set'; readonly parameter: RuntimeParameter }
  | { readonly kind: 'deleted'; readonly parameter: RuntimeParameter }
  | { readonly kind: 'global-set'; readonly parameter: GlobalParameter }
  | { readonly kind: 'global-deleted'; readonly parameter: GlobalParameter };

export type ParameterListener = (change: ParameterChange) => void;

function key(component: string, vhost: string, name: string): string {
  return JSON.stringify([component, vhost, name]);
}

export class RuntimeParameters {
  private readonly components = new Map<string, ParameterComponent>();
  private readonly values = new Map<string, RuntimeParameter>();
  private readonly globals = new Map<string, GlobalParameter>();
  private readonly listeners = new Set<ParameterListener>();

  registerComponent(component: ParameterComponent): void {
    this.components.set(component.name, component);
  }

  hasComponent(name: string): boolean {
    return this.components.has(name);
  }

  /**
   * Validates with the component and sets. An unknown component is refused as RabbitMQ does
   * ("component_not_found"). Returns whether the parameter is new.
   */
  set(component: string, vhost: string, name: string, value: unknown): boolean {
    this.validate(component, vhost, name, value);
    return this.put({ component, vhost, name, value });
  }

  /** What `set` checks, without setting (a definitions import checks every parameter first). */
  validate(component: string, vhost: string, name: string, value: unknown): void {
    const handler = this.components.get(component);
    if (handler === undefined) {
      throw new BrokerError(BrokerErrorKind.InvalidArgument, `component_not_found: no runtime parameter component '${component}'`);
    }
    if (name === '') throw preconditionFailed('a runtime parameter needs a name');
    handler.validate(vhost, name, value);
  }

  /** Sets without validation (restore from the journal: it was validated when it was set). @internal */
  restore(parameter: RuntimeParameter): void {
    this.put(parameter);
  }

  private put(parameter: RuntimeParameter): boolean {
    const k = key(parameter.component, parameter.vhost, parameter.name);
    const isNew = !this.values.has(k);
    this.values.set(k, Object.freeze({ ...parameter }));
    this.emit({ kind: 'set', parameter });
    return isNew;
  }

  get(component: string, vhost: string, name: string): RuntimeParameter | undefined {
    return this.values.get(key(component, vhost, name));
  }

  delete(component: string, vhost: string, name: string): boolean {
    const k = key(component, vhost, name);
    const parameter = this.values.get(k);
    if (parameter === undefined) return false;
    this.values.delete(k);
    this.emit({ kind: 'deleted', parameter });
    return true;
  }

  /** Every parameter, optionally of one component and/or vhost, by component, vhost and name. */
  list(filter: { component?: string; vhost?: string } = {}): RuntimeParameter[] {
    return [...this.values.values()]
      .filter((p) => (filter.component === undefined || p.component === filter.component) && (filter.vhost === undefined || p.vhost === filter.vhost))
      .sort((a, b) => compare(a.component, b.component) || compare(a.vhost, b.vhost) || compare(a.name, b.name));
  }

  /** A vhost was deleted: its parameters go with it (RabbitMQ clears them). */
  deleteVhost(vhost: string): void {
    for (const p of this.list({ vhost })) this.delete(p.component, p.vhost, p.name);
  }

  setGlobal(name: string, value: unknown): boolean {
    if (name === '') throw preconditionFailed('a global parameter needs a name');
    const isNew = !this.globals.has(name);
    const parameter = Object.freeze({ name, value });
    this.globals.set(name, parameter);
    this.emit({ kind: 'global-set', parameter });
    return isNew;
  }

  getGlobal(name: string): GlobalParameter | undefined {
    return this.globals.get(name);
  }

  deleteGlobal(name: string): boolean {
    const parameter = this.globals.get(name);
    if (parameter === undefined) return false;
    this.globals.delete(name);
    this.emit({ kind: 'global-deleted', parameter });
    return true;
  }

  listGlobal(): GlobalParameter[] {
    return [...this.globals.values()].sort((a, b) => compare(a.name, b.name));
  }

  onChange(listener: ParameterListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: ParameterChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
