/**
 * calculator: arithmetic tools with structured output (outputSchema + structuredContent).
 * Dividing by zero is a tool error (isError), not a protocol error.
 */
import { z } from 'zod';
import { createServer, type McpServer } from '../src/index.js';

const operands = z.object({ a: z.number().describe('First operand'), b: z.number().describe('Second operand') });
const result = z.object({ result: z.number(), expression: z.string() });

const ops: Array<[string, string, string, (a: number, b: number) => number]> = [
  ['add', 'Add', '+', (a, b) => a + b],
  ['subtract', 'Subtract', '-', (a, b) => a - b],
  ['multiply', 'Multiply', '*', (a, b) => a * b],
  ['divide', 'Divide', '/', (a, b) => a / b],
];

/** Registers the calculator tools on `server`. */
export function registerCalculator(server: McpServer): McpServer {
  for (const [name, title, symbol, fn] of ops) {
    server.tool(
      name,
      {
        title,
        description: `${title} two numbers: a ${symbol} b.`,
        inputSchema: operands,
        outputSchema: result,
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      ({ a, b }: { a: number; b: number }) => {
        if (name === 'divide' && b === 0) throw new Error('Division by zero: b must not be 0');
        return { result: fn(a, b), expression: `${a} ${symbol} ${b}` };
      },
    );
  }
  return server;
}

export default function create(): McpServer {
  return registerCalculator(createServer({ name: 'andon-calculator', version: '0.1.0' }));
}
