/**
 * `npm run fixture -- --port N`: serves the conformance fixture on http://127.0.0.1:N/mcp.
 */
import { serveHttp } from '../../src/index.js';
import { buildFixture } from './fixture.js';

const i = process.argv.indexOf('--port');
const port = i === -1 ? 3100 : Number(process.argv[i + 1]);
const ep = await serveHttp(buildFixture(), { port, host: '127.0.0.1' });
process.stderr.write(`conformance fixture listening on ${ep.url}\n`);
const stop = () => void ep.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
