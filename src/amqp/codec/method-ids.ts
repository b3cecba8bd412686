import { methodNames, type MethodId } from '../spec/generated.js';

/** The class half of a method id (connection.close carries it as class-id). */
export const classIdOf = (id: number): number => id >>> 16;

/** The method half of a method id (connection.close carries it as method-id). */
export const methodIndexOf = (id: number): number => id & 0xffff;

/** 'basic.publish', or 'unknown 60/99' for ids outside the spec (error messages, logs). */
export function methodName(id: number): string {
  return methodNames[id as MethodId] ?? `unknown ${classIdOf(id)}/${methodIndexOf(id)}`;
}
