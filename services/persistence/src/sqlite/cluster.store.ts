import type Database from 'better-sqlite3';
import type { ClusterMetadata, ClusterStore } from '../types';

export class SqliteClusterStore implements ClusterStore {
  private readonly select: Database.Statement<[], { data: string }>;
  private readonly insertIfAbsent: Database.Statement<[string]>;
  private readonly getOrInitTx: (initial: ClusterMetadata) => ClusterMetadata;

  constructor(db: Database.Database) {
    this.select = db.prepare('SELECT data FROM cluster_metadata WHERE id = 1');
    this.insertIfAbsent = db.prepare('INSERT INTO cluster_metadata (id, data) VALUES (1, ?) ON CONFLICT (id) DO NOTHING');
    // The first writer wins; everyone (including later boots with other config) reads its value.
    const tx = db.transaction((initial: ClusterMetadata): ClusterMetadata => {
      this.insertIfAbsent.run(JSON.stringify(initial));
      return JSON.parse(this.select.get()!.data) as ClusterMetadata;
    });
    this.getOrInitTx = tx.immediate;
  }

  async getOrInitClusterMetadata(initial: ClusterMetadata): Promise<ClusterMetadata> {
    return this.getOrInitTx(initial);
  }
}
