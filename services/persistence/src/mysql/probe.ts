import { connect } from 'node:net';

/** Whether something accepts TCP connections at host:port within `timeoutMs` (a cheap "is MySQL up?"). */
export function mysqlAnswers(host = '127.0.0.1', port = 3306, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
