/**
 * Method + path routing for the daemon's HTTP listener. Routes are plain data handed to the server
 * (the daemon decides which exist); a path may hold parameters, e.g. `/api/v1/silences/{id}`.
 * HEAD is answered by the GET route (without a body); a known path with another method is 405 with Allow.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-error.ts';

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type Method = (typeof METHODS)[number];

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Parsed request URL (path and query). */
  url: URL;
  /** Path parameters by name, URL-decoded. */
  params: Readonly<Record<string, string>>;
  /** A HEAD request served by a GET route: send headers only. */
  head: boolean;
}

export interface Route {
  method: Method;
  /** Literal segments and `{name}` parameters, e.g. `/api/v1/silences/{id}`. */
  path: string;
  handler: (ctx: RequestContext) => Promise<void> | void;
  /** How errors of this route are answered: `json` ({"error": ..., "field": ...}) for APIs, else plain text. */
  errors?: 'text' | 'json';
}

interface CompiledRoute {
  route: Route;
  segments: ({ literal: string } | { param: string })[];
}

export type Match =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'wrong-method'; allow: string[]; errors: 'text' | 'json' }
  | { kind: 'not-found' };

function compile(route: Route): CompiledRoute {
  if (!route.path.startsWith('/')) throw new Error(`route path must start with "/": ${route.path}`);
  const segments = route.path
    .slice(1)
    .split('/')
    .map((part) => {
      const param = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(part);
      if (param) return { param: param[1]! };
      if (part.includes('{') || part.includes('}')) throw new Error(`route path has a malformed parameter: ${route.path}`);
      return { literal: part };
    });
  return { route, segments };
}

function matchPath(compiled: CompiledRoute, parts: readonly string[]): Record<string, string> | null {
  if (compiled.segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const segment = compiled.segments[i]!;
    const part = parts[i]!;
    if ('literal' in segment) {
      if (segment.literal !== part) return null;
    } else {
      if (part === '') return null;
      try {
        params[segment.param] = decodeURIComponent(part);
      } catch {
        throw new HttpError(400, `path parameter ${segment.param} is not valid percent-encoding`, segment.param);
      }
    }
  }
  return params;
}

export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.compiled = routes.map(compile);
    const seen = new Set<string>();
    for (const { route } of this.compiled) {
      const key = `${route.method} ${route.path.replace(/\{[^}]+\}/g, '{}')}`;
      if (seen.has(key)) throw new Error(`two routes for ${route.method} ${route.path}`);
      seen.add(key);
    }
  }

  /** Finds the route for `method` and `pathname`; HEAD matches GET. */
  match(method: string, pathname: string): Match {
    const parts = pathname.slice(1).split('/');
    const wanted = method === 'HEAD' ? 'GET' : method;
    const allow = new Set<string>();
    let errors: 'text' | 'json' = 'text';
    for (const compiled of this.compiled) {
      const params = matchPath(compiled, parts);
      if (!params) continue;
      if (compiled.route.method === wanted) return { kind: 'found', route: compiled.route, params };
      allow.add(compiled.route.method);
      if (compiled.route.method === 'GET') allow.add('HEAD');
      if (compiled.route.errors === 'json') errors = 'json';
    }
    if (allow.size === 0) return { kind: 'not-found' };
    return { kind: 'wrong-method', allow: [...allow], errors };
  }
}
