import path from 'node:path';

/** The repository's scratch folder (`.test-tmp`, git-ignored): what test processes share on disk. */
export const SCRATCH_DIR = path.resolve(__dirname, '..', '..', '..', '..', '.test-tmp');
