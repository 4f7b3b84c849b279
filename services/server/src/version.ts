/** The version of this package, read from its package.json: what `--version` and GetSystemInfo report. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const SERVER_VERSION: string = (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
