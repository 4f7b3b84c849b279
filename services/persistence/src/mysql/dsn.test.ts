import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '@hourglass/common';
import { describeMysqlDsn, mysqlDsnKey, parseMysqlDsn } from './dsn';
import { inListChunks, insertBatches } from './sql';

describe('parseMysqlDsn', () => {
  it('reads user, password, host, port and database, with defaults', () => {
    assert.deepEqual(parseMysqlDsn('mysql://hourglass:s%3Acret@db-1.internal:3307/hourglass_shard_0'), {
      host: 'db-1.internal',
      port: 3307,
      user: 'hourglass',
      password: 's:cret',
      database: 'hourglass_shard_0',
      connectTimeoutMs: 10_000,
      tls: false,
    });
    const minimal = parseMysqlDsn('mariadb://root@127.0.0.1/hourglass');
    assert.deepEqual([minimal.port, minimal.password, minimal.tls], [3306, '', false]);
    const tuned = parseMysqlDsn('mysql://root@[::1]:3306/h?connectTimeout=2500&tls=true');
    assert.deepEqual([tuned.host, tuned.connectTimeoutMs, tuned.tls], ['::1', 2500, true]);
  });

  it('describes a DSN without its password', () => {
    assert.equal(describeMysqlDsn(parseMysqlDsn('mysql://u:secret@h:1/d')), 'mysql://u@h:1/d');
    assert.equal(describeMysqlDsn(parseMysqlDsn('mysql://u@[::1]/d')), 'mysql://u@[::1]:3306/d');
  });

  it('treats spellings of one database as one pool key', () => {
    assert.equal(mysqlDsnKey(parseMysqlDsn('mysql://u@DB:3306/d')), mysqlDsnKey(parseMysqlDsn('mysql://u@db/d')));
    assert.notEqual(mysqlDsnKey(parseMysqlDsn('mysql://u@db/d')), mysqlDsnKey(parseMysqlDsn('mysql://u@db/e')));
  });

  it('rejects what it cannot use, saying why and never echoing the password', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /expected mysql:\/\/user:password@host:port\/database/],
      ['http://u:pw@h/d', /scheme must be mysql:\/\//],
      ['mysql://h/d', /names no user/],
      ['mysql://u:pw@h', /names no database/],
      ['mysql://u:pw@h/a-b', /database name "a-b"/],
      [`mysql://u:pw@h/${'x'.repeat(65)}`, /1-64 characters/],
      ['mysql://u:pw@h/d?connectTimeout=soon', /connectTimeout must be a positive number/],
      ['mysql://u:pw@h/d?tls=yes', /tls must be true or false/],
      ['mysql://u:pw@h/d?charset=latin1', /unknown parameter "charset"/],
    ];
    for (const [dsn, why] of cases) {
      assert.throws(() => parseMysqlDsn(dsn), (err: unknown) => {
        assert.ok(err instanceof InvalidArgumentError, dsn);
        assert.match(err.message, why);
        assert.doesNotMatch(err.message, /:pw@/);
        return true;
      });
    }
  });
});

describe('statement shaping', () => {
  it('pads IN lists to a power of two and splits them at 256', () => {
    assert.deepEqual(inListChunks([]), []);
    assert.deepEqual(inListChunks([1, 2, 3]), [[1, 2, 3, 3]]);
    const many = Array.from({ length: 300 }, (_, i) => i);
    assert.deepEqual(inListChunks(many).map((c) => c.length), [256, 64]);
    assert.deepEqual(new Set(inListChunks(many).flat()), new Set(many));
  });

  it('batches INSERT rows by count and by bytes, keeping an oversized row alone', () => {
    const rows = Array.from({ length: 130 }, (_, i) => i);
    assert.deepEqual(insertBatches(rows, () => 1).map((b) => b.length), [64, 64, 2]);
    const sizes = [3_000_000, 3_000_000, 9_000_000, 1];
    assert.deepEqual(insertBatches(sizes, (n) => n), [[3_000_000], [3_000_000], [9_000_000], [1]]);
  });
});
