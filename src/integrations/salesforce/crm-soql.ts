/** A SOQL string literal; escapes the characters SOQL treats specially inside quotes. */
export function soqlString(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

export function soqlList(values: string[]): string {
  return `(${values.map(soqlString).join(', ')})`;
}

/** The REST path for a query; `queryAll` also returns deleted and archived rows (e.g. old tasks). */
export function queryPath(soql: string, options: { includeDeleted?: boolean } = {}): string {
  return `/${options.includeDeleted ? 'queryAll' : 'query'}?q=${encodeURIComponent(soql)}`;
}

export interface QueryPage<T> {
  records: T[];
  done: boolean;
  nextRecordsUrl?: string;
}

export function asQueryPage<T>(body: unknown): QueryPage<T> {
  const page = (body ?? {}) as Partial<QueryPage<T>>;
  return {
    records: Array.isArray(page.records) ? page.records : [],
    done: page.done !== false,
    ...(typeof page.nextRecordsUrl === 'string' ? { nextRecordsUrl: page.nextRecordsUrl } : {}),
  };
}
