/**
 * weather: tools, resources, a resource template, a prompt with argument completion and a
 * subscribable resource that changes. All data is deterministic: no network.
 */
import { z } from 'zod';
import { createServer, ErrorCode, McpError, type McpServer } from '../src/index.js';

interface City {
  name: string;
  country: string;
  baseC: number;
}

const CITIES: Record<string, City> = {
  london: { name: 'London', country: 'GB', baseC: 11 },
  paris: { name: 'Paris', country: 'FR', baseC: 13 },
  tokyo: { name: 'Tokyo', country: 'JP', baseC: 16 },
  toronto: { name: 'Toronto', country: 'CA', baseC: 8 },
  sydney: { name: 'Sydney', country: 'AU', baseC: 18 },
};
const CONDITIONS = ['sunny', 'cloudy', 'rain', 'windy', 'fog'];

/** Deterministic forecast: a function of the city and the day offset only. */
export function forecast(cityId: string, day: number): { day: number; highC: number; lowC: number; conditions: string } {
  const c = CITIES[cityId];
  if (!c) throw new Error(`Unknown city "${cityId}". Known: ${Object.keys(CITIES).join(', ')}`);
  const h = [...cityId].reduce((n, ch) => n * 31 + ch.charCodeAt(0), day + 7) >>> 0;
  const highC = c.baseC + (h % 7) - 2;
  return { day, highC, lowC: highC - 4 - (h % 3), conditions: CONDITIONS[h % CONDITIONS.length]! };
}

export interface WeatherOptions {
  /** How often the alerts resource changes, ms. 0 disables the timer (tests call `tick`). Default 10,000. */
  alertEveryMs?: number;
}

/** Registers the weather tools, resources and prompt; returns a `tick` that advances the alerts. */
export function registerWeather(server: McpServer, options: WeatherOptions = {}): { tick(): void; stop(): void } {
  let alertSeq = 0;
  server.tool(
    'get_forecast',
    {
      title: 'Get forecast',
      description: 'Daily forecast for a known city, up to 7 days.',
      inputSchema: z.object({ city: z.enum(Object.keys(CITIES) as [string, ...string[]]), days: z.number().int().min(1).max(7).default(3) }),
      outputSchema: z.object({
        city: z.string(),
        days: z.array(z.object({ day: z.number(), highC: z.number(), lowC: z.number(), conditions: z.string() })),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ city, days = 3 }: { city: string; days?: number }) => ({
      city: CITIES[city]!.name,
      days: Array.from({ length: days }, (_, i) => forecast(city, i)),
    }),
  );
  server.tool(
    'list_cities',
    { title: 'List cities', description: 'Cities with forecasts, as resource links.', annotations: { readOnlyHint: true } },
    () => ({
      content: Object.entries(CITIES).map(([id, c]) => ({
        type: 'resource_link' as const,
        uri: `weather://${id}/current`,
        name: c.name,
        mimeType: 'application/json',
      })),
    }),
  );
  server.resource('weather://cities', { name: 'cities', title: 'Known cities', mimeType: 'application/json' }, (uri) => ({
    uri,
    mimeType: 'application/json',
    text: JSON.stringify(Object.entries(CITIES).map(([id, c]) => ({ id, ...c }))),
  }));
  server.resource(
    'weather://alerts',
    { name: 'alerts', title: 'Weather alerts', description: 'Changes over time; subscribe to be told.', mimeType: 'application/json' },
    (uri) => ({ uri, mimeType: 'application/json', text: JSON.stringify({ sequence: alertSeq, alert: alertSeq === 0 ? null : `Advisory #${alertSeq}: ${CONDITIONS[alertSeq % CONDITIONS.length]}` }) }),
  );
  const cityIds = Object.keys(CITIES);
  server.resourceTemplate(
    'weather://{city}/current',
    {
      name: 'current-weather',
      title: 'Current weather for a city',
      mimeType: 'application/json',
      complete: { city: (value) => cityIds.filter((c) => c.startsWith(value.toLowerCase())) },
      list: () => cityIds.map((id) => ({ uri: `weather://${id}/current`, name: `${CITIES[id]!.name} now`, mimeType: 'application/json' })),
    },
    (uri, { city = '' }) => ({ uri, mimeType: 'application/json', text: JSON.stringify({ city: CITIES[city]?.name ?? city, ...forecast(city, 0) }) }),
  );
  server.prompt(
    'weather_report',
    {
      title: 'Weather report',
      description: 'Asks the model for a short weather report for a city.',
      arguments: [
        { name: 'city', description: 'City id', required: true, complete: (value) => cityIds.filter((c) => c.startsWith(value.toLowerCase())) },
        { name: 'style', description: 'formal or casual', complete: (v) => ['formal', 'casual'].filter((s) => s.startsWith(v)) },
      ],
    },
    ({ city = '', style = 'casual' }) => {
      if (!CITIES[city]) throw new McpError(ErrorCode.InvalidParams, `Invalid params: "arguments.city" must be one of ${cityIds.join(', ')}`);
      const f = forecast(city, 0);
      return `Write a ${style} weather report for ${CITIES[city]!.name}: high ${f.highC}°C, low ${f.lowC}°C, ${f.conditions}.`;
    },
  );
  const tick = () => {
    alertSeq++;
    server.notifyResourceUpdated('weather://alerts');
  };
  const every = options.alertEveryMs ?? 10_000;
  const timer = every > 0 ? setInterval(tick, every) : undefined;
  timer?.unref();
  return { tick, stop: () => clearInterval(timer) };
}

export default function create(): McpServer {
  const server = createServer({ name: 'andon-weather', version: '0.1.0', instructions: 'Deterministic demo weather data; no network.' });
  registerWeather(server);
  return server;
}
