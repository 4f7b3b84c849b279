import { openSqlitePersistence } from '@hourglass/persistence';
import { runStorageRetentionSuite } from '../testing/storage-retention-suite';

runStorageRetentionSuite('sqlite', async (clock) => openSqlitePersistence({ path: ':memory:', clock }));
