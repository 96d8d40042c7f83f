import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

/** A `COPY … FROM STDIN` under way on one connection (see {@link startCopy}). */
export interface CopyInProgress {
  /**
   * Resolves once the server has taken the COPY and this process has handed the socket all it holds:
   * every chunk, or as many as the socket takes before it pushes back. From then on the server reads
   * rows from the socket's buffers while this process may compute without yielding; it should yield
   * now and then so that the rest can follow.
   */
  readonly flowing: Promise<void>;
  /** Resolves when the server has stored every row; rejects with the server's (or the producer's) error. */
  readonly done: Promise<void>;
  /**
   * Abandons the COPY: unless every chunk was already sent, the server is sent a CopyFail, so the
   * statement fails and the transaction can only roll back. Resolves once the connection is free for
   * the next statement (the `ROLLBACK`).
   */
  abort(reason: Error): Promise<void>;
}

/**
 * Starts `statement` (a `COPY … FROM STDIN`) on `client` and feeds it `chunks`, as the socket takes
 * them, without waiting: the caller may compute while the server stores the rows, and must not use the
 * connection for anything else until `done` settles. An error from the server while this process is
 * busy is kept for `done`, never left unheard.
 */
export function startCopy(
  client: pg.PoolClient,
  statement: string,
  chunks: Iterable<Buffer>,
): CopyInProgress {
  const stream = client.query(copyFrom(statement));
  let failure: Error | undefined;
  stream.on('error', (error: Error) => {
    failure ??= error;
  });
  let markFlowing = () => {};
  const flowing = new Promise<void>((resolve) => {
    markFlowing = resolve;
  });
  let aborted: Error | undefined;
  // Once CopyDone is sent the server finishes on its own; once it failed it has ended the COPY itself.
  // Otherwise destroying the stream sends a CopyFail, answered by an error that settles the stream.
  const cancel = (reason: Error) => {
    if (!stream.writableEnded && !failure && !stream.destroyed) stream.destroy(reason);
  };
  const done = (async () => {
    try {
      // The first write's callback runs once the server has answered the COPY and the stream flushed:
      // until then a full buffer says nothing about the socket.
      let accepted = false;
      for (const chunk of chunks) {
        if (aborted ?? failure) break;
        const more = stream.write(chunk, () => {
          accepted = true;
        });
        if (!more) {
          if (accepted) markFlowing();
          await once(stream, 'drain');
        }
      }
      if (aborted ?? failure) throw aborted ?? failure;
      markFlowing();
      stream.end();
      await finished(stream);
      if (failure) throw failure;
    } catch (error) {
      cancel(error as Error);
      if (stream.destroyed && !stream.closed) await once(stream, 'close').catch(() => undefined);
      // The producer's own error, or the server's; the CopyFail's answer only echoes the former.
      throw error;
    } finally {
      markFlowing();
    }
  })();
  // Observed by the caller once it has computed; never an unhandled rejection meanwhile.
  done.catch(() => undefined);
  return {
    flowing,
    done,
    abort: async (reason) => {
      aborted ??= reason;
      cancel(reason);
      await done.catch(() => undefined);
    },
  };
}

/**
 * Chunks of `COPY` text of at most `size` bytes from lines made by `lines`, each written straight into
 * the chunk's buffer: no string of a whole chunk is built, which the stream would have to flatten and
 * encode. The lines must be ASCII (a character is a byte) and already escaped.
 */
export function* copyChunks(lines: Iterable<string>, size = 256 * 1024): Generator<Buffer> {
  let chunk = Buffer.allocUnsafe(size);
  let used = 0;
  for (const line of lines) {
    if (used + line.length > size) {
      if (used > 0) yield chunk.subarray(0, used);
      chunk = Buffer.allocUnsafe(Math.max(size, line.length));
      used = 0;
    }
    used += chunk.write(line, used, 'latin1');
  }
  if (used > 0) yield chunk.subarray(0, used);
}

/**
 * Runs `COPY (statement) TO STDOUT` (text format) on a connection and hands each row to `onRow` as the
 * chunk holding it and the row's bounds (`text.slice(start, end)` is the row without its newline), so
 * a reader parses its columns in place, slicing only what it keeps.
 * @throws when the output ends in the middle of a row.
 */
export async function copyRowsOut(
  client: pg.PoolClient,
  statement: string,
  onRow: (text: string, start: number, end: number) => void,
): Promise<void> {
  const stream = client.query(copyTo(`COPY (${statement}) TO STDOUT`));
  let rest = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = rest + chunk.toString('utf8');
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      onRow(text, start, nl);
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest) throw new Error('COPY ended in the middle of a row');
}
