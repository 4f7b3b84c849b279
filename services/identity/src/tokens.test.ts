import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnauthenticatedError } from '@hourglass/common';
import { hashSecret, keyIdOf, newKeyId, newToken, parseToken, verifySecret } from './tokens';

describe('API key tokens', () => {
  it('round-trips: a new token parses back to its key id and secret', () => {
    const keyId = newKeyId();
    assert.match(keyId, /^[a-z2-7]{20}$/);
    const { token, secret } = newToken(keyId);
    assert.match(token, /^hgk_[a-z2-7]{20}_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(parseToken(token), { keyId, secret });
    assert.equal(keyIdOf(token), keyId);
    assert.notEqual(newKeyId(), keyId, 'ids are random');
  });

  it('refuses malformed tokens without echoing them', () => {
    const secretish = 'hgk_notreallyakey_' + 'S'.repeat(200);
    for (const bad of ['', 'Bearer x', 'hgk_', secretish, `hgk_${'a'.repeat(20)}_short`]) {
      assert.throws(
        () => parseToken(bad),
        (err: unknown) => err instanceof UnauthenticatedError && /malformed API key/.test(err.message) && !err.message.includes('SSSS'),
      );
    }
    assert.equal(keyIdOf(secretish), undefined);
  });

  it('stores a salted scrypt hash that verifies the secret and nothing else', async () => {
    const { secret } = newToken(newKeyId());
    const stored = await hashSecret(secret);
    assert.match(stored, /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    assert.ok(!stored.includes(secret), 'the secret is not in the stored form');
    assert.equal(await verifySecret(secret, stored), true);
    assert.equal(await verifySecret(`${secret.slice(0, -1)}x`, stored), false);
    assert.notEqual(await hashSecret(secret), stored, 'salted: the same secret hashes differently');
    assert.equal(await verifySecret(secret, 'plain'), false, 'an unknown stored form never verifies');
  });
});
