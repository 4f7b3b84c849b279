import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { InvalidArgumentError, NotFoundError, quote, silentLogger } from '@hourglass/common';
import { MAX_STATUS_MESSAGE_LENGTH, capStatusMessage, toServiceError } from './errors';

describe('status messages', () => {
  it('cuts a caller value quoted whole below the frontend to ~100 characters and its length', () => {
    const id = 'w'.repeat(100_000);
    const message = capStatusMessage(`workflow execution not found: workflowId ${JSON.stringify(id)}, runId "r-1"`);
    assert.equal(message, `workflow execution not found: workflowId "${'w'.repeat(100)}…" (100000 characters), runId "r-1"`);
  });

  it('leaves a value quote() already shortened alone', () => {
    const text = `workflowId ${quote('x'.repeat(5000))} is 5000 bytes long in UTF-8, more than the limit of 1000`;
    assert.equal(capStatusMessage(text), text);
  });

  it('keeps short messages and short quoted values as they are', () => {
    const text = 'cronSchedule "* * * * * * *" is invalid: use five fields';
    assert.equal(capStatusMessage(text), text);
    const escaped = `timer id ${JSON.stringify('a"b\\c')} is already in use`;
    assert.equal(capStatusMessage(escaped), escaped);
  });

  it('caps any message at MAX_STATUS_MESSAGE_LENGTH', () => {
    const message = capStatusMessage(`bad: ${'x'.repeat(50_000)}`);
    assert.ok(message.length < MAX_STATUS_MESSAGE_LENGTH + 60, `length ${message.length}`);
    assert.match(message, /message of 50005 characters cut\)$/);
  });

  it('applies to every domain error on its way out', () => {
    const grpc = toServiceError(new NotFoundError(`update ${JSON.stringify('u'.repeat(20_000))} not found`), 'PollWorkflowExecutionUpdate', silentLogger());
    assert.equal(grpc.code, status.NOT_FOUND);
    assert.ok((grpc.details ?? '').length < 200, grpc.details);
    assert.equal(toServiceError(new InvalidArgumentError('workflowId is not set'), 'x', silentLogger()).details, 'workflowId is not set');
  });
});
