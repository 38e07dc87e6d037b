/** The v1 SDK fixture server over stdio (StdioServerTransport). */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { buildV1Server } from './sdk-v1.js';

await buildV1Server().connect(new StdioServerTransport());
