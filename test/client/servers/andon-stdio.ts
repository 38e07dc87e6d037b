/** The client fixture server over stdio (a child process of the stdio tests). */
import { serveStdio } from '../../../src/index.js';
import { buildClientFixture } from './fixture.js';

const conn = serveStdio(buildClientFixture());
await conn.closed;
process.exit(0);
