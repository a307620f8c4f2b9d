// Loading a user module (a spec or a patch) and its default export, with errors that name the file.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The module's default export; `fail` turns a problem into the caller's one-line error. */
export async function loadDefaultExport(file: string, what: string, fail: (problem: string) => never): Promise<unknown> {
  const path = resolve(file);
  if (!existsSync(path)) fail(`${what} file not found: ${file}`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (e) {
    fail(`${what} ${file} does not load: ${(e as Error).message.split('\n')[0]}`);
  }
  return mod!.default;
}
