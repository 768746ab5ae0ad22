/**
 * How a route module plugs into the fake ARM (test/fakes/arm/server.ts).
 *
 * A route module is a file of its own (e.g. test/fakes/arm/compute.ts) that calls `registerRoutes` at its top level
 * and is imported for that side effect from server.ts with ONE line, next to the other route modules there:
 *
 *     import './compute.js';
 *
 * Every fake ARM started afterwards calls the module's `create` with an `ArmRouteContext` and asks its `route` first
 * for every request, before the built-in routes (subscriptions, cost, managed clusters, inventory). A route answers
 * `undefined` for requests that are not its own. Everything a route answers goes through the same checks as the
 * built-in routes: the request and the response must match the Azure REST API definitions in ./openapi (see
 * contract.ts), so a module needs no checking code of its own. The state a module keeps is reachable from tests with
 * `arm.module<T>(name)`.
 */
import type { FakeInventory } from './inventory.js';

export interface ArmRequest {
  readonly method: string;
  /** As sent (ARM paths are case-insensitive: match `lower`). */
  readonly path: string;
  readonly lower: string;
  readonly search: URLSearchParams;
  /** The parsed JSON body, undefined when empty. */
  readonly body: unknown;
}

export interface ArmResponse {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
}

/** A long-running operation as Azure answers it (201/202 with Azure-AsyncOperation and Location). */
export interface LongRunningStart {
  readonly subscriptionId: string;
  /** The resource provider whose status monitor is polled, e.g. Microsoft.ContainerService or Microsoft.Compute. */
  readonly provider: string;
  readonly location: string;
  readonly apiVersion: string;
  /** 201 (a PUT that creates) or 202 (DELETE, POST, PATCH). */
  readonly status: 201 | 202;
  /** The body of the 201 (the resource as it is being created); none for a 202. */
  readonly json?: unknown;
  /** Runs once, when the last InProgress poll has been answered: the change lands. */
  complete(): void;
  /** The final resource the Location URL answers with (200); undefined: 204 No Content. */
  result?(): unknown;
  /** Shown in the operation list of the fake (FakeArm.clusterOperations) when set. */
  readonly describe?: { method: 'PUT' | 'DELETE' | 'POST'; cluster: string };
}

export interface ArmRouteContext {
  /** https://127.0.0.1:port of this fake. */
  baseUrl(): string;
  now(): Date;
  /** Ids are case-insensitive. */
  subscriptionExists(id: string): boolean;
  /** Disks, snapshots, public IPs (inventory.ts): a module that creates disks or snapshots adds them here. */
  readonly inventory: FakeInventory;
  /**
   * Starts a long-running operation: the answer to send (201/202 with Azure-AsyncOperation, Location and
   * Retry-After: 0). Its status monitor answers InProgress for the fake's configured number of polls, then Succeeded.
   */
  longRunning(op: LongRunningStart): ArmResponse;
}

export type ArmRoute = (req: ArmRequest) => ArmResponse | undefined | Promise<ArmResponse | undefined>;

export interface ArmRouteModule {
  /** Unique; tests reach the module's state with arm.module(name). */
  readonly name: string;
  create(ctx: ArmRouteContext): { route: ArmRoute; state?: unknown };
}

const modules: ArmRouteModule[] = [];

/** Called once at the top level of a route module file (see the comment at the top of this file). */
export function registerRoutes(module: ArmRouteModule): void {
  if (modules.some((m) => m.name === module.name)) throw new Error(`fake ARM route module ${module.name} is registered twice`);
  modules.push(module);
}

export function registeredRouteModules(): readonly ArmRouteModule[] {
  return modules;
}
