/*
 * Named examples per operation, put into the finished OpenAPI document (swagger's
 * transformObject). Schemas with an id carry one `.meta({ example })` each, but an operation needs
 * several named ones (an event of each email system), and @fastify/swagger drops anything set
 * beside a `$ref` when it resolves a route's body, so they are attached to the media types here.
 */

export interface Example {
  summary: string;
  value: unknown;
}

export type NamedExamples = Record<string, Example>;

export interface OperationExamples {
  request?: NamedExamples;
  /** The body's real media type when the route schema cannot say it (raw JavaScript uploads). */
  requestContentType?: string;
  responses?: Record<number, NamedExamples>;
  responseContentType?: string;
  /** Example values of path parameters, by name. */
  params?: Record<string, unknown>;
  /** Example values of query parameters, by name. */
  query?: Record<string, unknown>;
}

/** Keyed `"<method> <path>"` as the document spells them: `"patch /v1/routes/{id}"`. */
export type ExampleBook = Record<string, OperationExamples>;

interface Media {
  schema?: unknown;
  example?: unknown;
  examples?: NamedExamples;
}

interface Operation {
  parameters?: { in: string; name: string; example?: unknown }[];
  requestBody?: { content?: Record<string, Media> };
  responses?: Record<string, { content?: Record<string, Media> }>;
}

type Document = { paths?: Record<string, Record<string, Operation>> };

/** The content map with its one media type renamed and given the examples. */
function withExamples(content: Record<string, Media>, examples: NamedExamples, contentType?: string) {
  const [type, media] = Object.entries(content)[0] ?? ["application/json", {}];
  const { example: _single, ...rest } = media;
  return { [contentType ?? type]: { ...rest, examples } };
}

/** A copy of `doc` with the book's examples on each operation it names; other operations as they were. */
export function addExamples<T extends object>(doc: T, book: ExampleBook): T {
  const paths = (doc as Document).paths ?? {};
  const out: Record<string, Record<string, Operation>> = {};
  for (const [path, operations] of Object.entries(paths)) {
    out[path] = {};
    for (const [method, operation] of Object.entries(operations)) {
      const ex = book[`${method} ${path}`];
      out[path][method] = ex ? operationWithExamples(operation, ex) : operation;
    }
  }
  return { ...doc, paths: out };
}

function operationWithExamples(operation: Operation, ex: OperationExamples): Operation {
  const next: Operation = { ...operation };
  if (ex.request && operation.requestBody) {
    next.requestBody = {
      ...operation.requestBody,
      content: withExamples(operation.requestBody.content ?? {}, ex.request, ex.requestContentType),
    };
  }
  if (ex.responses && operation.responses) {
    const responses = { ...operation.responses };
    for (const [status, examples] of Object.entries(ex.responses)) {
      const response = responses[status];
      if (!response) continue;
      responses[status] = {
        ...response,
        content: withExamples(response.content ?? {}, examples, ex.responseContentType),
      };
    }
    next.responses = responses;
  }
  const values: Record<string, Record<string, unknown> | undefined> = { path: ex.params, query: ex.query };
  if (operation.parameters) {
    next.parameters = operation.parameters.map((p) => {
      const value = values[p.in]?.[p.name];
      return value === undefined ? p : { ...p, example: value };
    });
  }
  return next;
}
