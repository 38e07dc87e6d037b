/** The v2 SDK fixture server over stdio (`serveStdio`: 2026 discover, or a 2025 initialize). */
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { buildV2Server } from './sdk-v2.js';

serveStdio(() => buildV2Server());
