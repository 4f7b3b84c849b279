import type { ClusterMetadata, ClusterStore } from '../types';
import type { MysqlDatabase } from './sql';

export class MysqlClusterStore implements ClusterStore {
  constructor(private readonly db: MysqlDatabase) {}

  async getOrInitClusterMetadata(initial: ClusterMetadata): Promise<ClusterMetadata> {
    // The first writer wins; everyone (including later boots with other config) reads its value.
    // The row never changes once written, so the two autocommit statements need no transaction.
    await this.db.run('INSERT INTO cluster_metadata (id, data) VALUES (1, ?) ON DUPLICATE KEY UPDATE id = id', [JSON.stringify(initial)]);
    const [row] = await this.db.rows<{ data: string }>('SELECT data FROM cluster_metadata WHERE id = 1', []);
    return JSON.parse(row!.data) as ClusterMetadata;
  }
}
